// The HTML of a report (report.h): the page skeleton with the data as JSON
// in a script element, which the page's own script (report_page.h) turns
// into lanes and tables. No network: the CSS and the script are inline and
// the fonts are the system's.
//
// Escaping: text put into the HTML goes through html_escape(); the data
// goes through script_json(), which leaves no '<', '>' or '&' in the script
// element, so no value can close it; the page's script puts data into the
// document with textContent only.
#pragma once

#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace hvo::stress {

[[nodiscard]] std::string html_escape(std::string_view s);
// `v` serialized for a <script type="application/json"> element.
[[nodiscard]] std::string script_json(const boost::json::value& v);

// The whole page for report_data()'s object.
[[nodiscard]] std::string render_report_html(const boost::json::object& data);

}  // namespace hvo::stress
