#include "tests/collector/harness.h"

#include <cpprest/http_client.h>

#include <boost/asio/ssl.hpp>

namespace driftwatch::collector_it {

Answer Http(const std::string& method, const std::string& url, const std::string& token,
            const std::string& body, const std::string& ca_file) {
  web::http::client::http_client_config cfg;
  cfg.set_timeout(std::chrono::seconds(10));
  if (!ca_file.empty()) {
    cfg.set_ssl_context_callback(
        [ca_file](boost::asio::ssl::context& ctx) { ctx.load_verify_file(ca_file); });
  }
  Answer a;
  try {
    web::http::client::http_client client(web::uri(url), cfg);
    web::http::http_request req(method);
    if (!token.empty()) req.headers().add("Authorization", "Bearer " + token);
    if (!body.empty()) req.set_body(body, "application/json");
    auto resp = client.request(req).get();
    a.status = resp.status_code();
    a.body = resp.extract_utf8string(true).get();
  } catch (const std::exception& e) {
    a.status = -1;
    a.body = e.what();
  }
  return a;
}

}  // namespace driftwatch::collector_it
