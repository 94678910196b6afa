//! Which base URL a Delivery API call goes to.

use super::cookies::is_location_hint;

/// Where the Delivery API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    /// `{client}.tt.omtrdc.net` (or `mboxedge{N}.tt.omtrdc.net` once a hint is known).
    ClientCode(String),
    /// A custom server domain without scheme, as the SDKs' `serverDomain`; a location hint wins.
    Domain(String),
    /// A full base URL given by the user (`http://127.0.0.1:8080`); used as it is.
    Url(String),
}

impl Server {
    /// Reads `--server`: with a scheme it is a fixed URL, without one a server domain.
    pub fn from_flag(server: &str) -> Server {
        let trimmed = server.trim().trim_end_matches('/');
        if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
            Server::Url(trimmed.to_string())
        } else {
            Server::Domain(trimmed.to_string())
        }
    }

    /// The base URL (scheme + host[:port]) for the next call. A hint that is not digits (from a
    /// saved session, say) is ignored: it never goes into a host name.
    pub fn base_url(&self, location_hint: Option<&str>, secure: bool) -> String {
        let scheme = if secure { "https" } else { "http" };
        let location_hint = location_hint.filter(|h| is_location_hint(h));
        match (self, location_hint) {
            (Server::Url(url), _) => url.clone(),
            (_, Some(hint)) => format!("{scheme}://mboxedge{hint}.tt.omtrdc.net"),
            (Server::ClientCode(client), None) => format!("{scheme}://{client}.tt.omtrdc.net"),
            (Server::Domain(domain), None) => format!("{scheme}://{domain}"),
        }
    }

    /// A short name for headers and ledgers.
    pub fn describe(&self) -> String {
        self.base_url(None, true)
    }
}

/// The full delivery endpoint URL for a base URL.
pub fn delivery_url(base: &str) -> String {
    format!("{}/rest/v1/delivery", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_hosts_as_the_sdks_do() {
        let by_code = Server::ClientCode("demo".into());
        assert_eq!(by_code.base_url(None, true), "https://demo.tt.omtrdc.net");
        assert_eq!(
            by_code.base_url(Some("28"), true),
            "https://mboxedge28.tt.omtrdc.net"
        );
        let domain = Server::from_flag("target.example.com");
        assert_eq!(domain.base_url(None, true), "https://target.example.com");
        assert_eq!(domain.base_url(None, false), "http://target.example.com");
        assert_eq!(
            domain.base_url(Some("21"), true),
            "https://mboxedge21.tt.omtrdc.net",
            "the hint wins over a server domain"
        );
        assert_eq!(
            domain.base_url(Some("@127.0.0.1:9/"), false),
            "http://target.example.com",
            "a hint that is not digits is ignored"
        );
        let url = Server::from_flag("http://127.0.0.1:8080/");
        assert_eq!(
            url.base_url(Some("21"), true),
            "http://127.0.0.1:8080",
            "an explicit URL is kept"
        );
        assert_eq!(
            delivery_url("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/rest/v1/delivery"
        );
    }
}
