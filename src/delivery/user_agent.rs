//! The visitor user agent mboxscope sends, and which user agents Target takes for bots.

/// A desktop browser user agent: Target counts its visits (SDK defaults often look like bots).
pub const DEFAULT_USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// Words whose presence makes Target (and the IAB list it follows) treat a visitor as a bot.
const BOT_MARKERS: [&str; 20] = [
    "bot",
    "crawl",
    "spider",
    "slurp",
    "curl",
    "wget",
    "python",
    "java/",
    "okhttp",
    "go-http-client",
    "node-fetch",
    "axios",
    "headless",
    "phantomjs",
    "httpclient",
    "libwww",
    "scrapy",
    "postman",
    "insomnia",
    "apache-http",
];

/// Whether Target would take this user agent for a bot (and count nothing). An empty user
/// agent counts as one too.
pub fn looks_like_bot(user_agent: &str) -> bool {
    let ua = user_agent.trim().to_ascii_lowercase();
    ua.is_empty() || !ua.starts_with("mozilla/") || BOT_MARKERS.iter().any(|m| ua.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_sdk_and_tool_user_agents_as_bots() {
        assert!(!looks_like_bot(DEFAULT_USER_AGENT));
        assert!(looks_like_bot("python-requests/2.31.0"));
        assert!(looks_like_bot("Mozilla/5.0 (compatible; Googlebot/2.1)"));
        assert!(looks_like_bot(
            "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)"
        ));
        assert!(looks_like_bot("Mozilla/5.0 HeadlessChrome/120.0"));
        assert!(looks_like_bot(""));
    }
}
