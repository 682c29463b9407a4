//! `--format html` (SPEC §4): one self-contained page. Checked twice: as
//! HTML (parsed with scraper: every value escaped, nothing loaded from
//! anywhere, the per-rule cap) and as a person sees it, in headless Chromium
//! (Debian's `chromium`, installed by `scripts/setup-test-deps.sh`): a
//! screenshot of the demo's report, and from the DOM Chromium built, the
//! numbers, the chart's bars and the message preview — while a local proxy
//! that every request of the browser must pass through counts that none
//! left the page.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assert_cmd::Command;
use scraper::{Html, Selector};
use serde_json::Value;

#[path = "support/report_schema.rs"]
mod report_schema;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The report's date for reproducible output: 2027-03-01 09:00 UTC.
const SOURCE_DATE_EPOCH: &str = "1803891600";

/// `mailgate lint ARGS` in `dir`; stdout, after checking the exit code is 0 or 1.
fn lint(dir: &Path, args: &[&str]) -> String {
    let output = Command::cargo_bin("mailgate")
        .expect("the mailgate binary is built")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .arg("lint")
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("mailgate runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "mailgate lint {args:?}: exit {:?}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn select<'a>(page: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    let selector = Selector::parse(css).expect("a valid selector");
    page.select(&selector).collect()
}

fn text(element: &scraper::ElementRef<'_>) -> String {
    element.text().collect::<String>()
}

/// A campaign in a new directory: `list` as recipients.csv, a draft whose
/// subject and body use `first_name`.
fn campaign(list: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("recipients.csv"), list).expect("write the list");
    std::fs::write(
        dir.path().join("draft.eml"),
        "From: Shop <news@shop.example>\r\nSubject: Hallo {{ first_name }} <b>&</b>\r\n\
         List-Unsubscribe: <https://shop.example/u>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n\
         <html><body><p>Hallo {{ first_name }}!</p><img src=\"https://tracker.example/p.gif\">\
         <p><a href=\"https://shop.example/afmelden\">Afmelden</a></p></body></html>\r\n",
    )
    .expect("write the draft");
    std::fs::write(
        dir.path().join("campaign.toml"),
        "[campaign]\nname = \"Lente <script>alert(1)</script>\"\ndraft = \"draft.eml\"\n\
         recipients = \"recipients.csv\"\nproduct = \"bbq\"\nsender = \"Shop\"\n\
         today = \"2027-03-01\"\n",
    )
    .expect("write the campaign");
    dir
}

#[test]
fn every_value_from_the_list_and_the_draft_shows_as_text() {
    let dir = campaign(
        "email,first_name,customer,purchased,consent_at,consent_source\n\
         anna@example.nl,<script>alert('naam')</script>,yes,bbq,,\n\
         <img src=x>@example.nl,Jan,no,,,\n\
         piet@example.nl,Piet,no,,,<script>alert('bron')</script>\n\
         kees@example.nl,Kees,no,,<b>gisteren</b>,formulier\n",
    );
    let html = lint(dir.path(), &["campaign.toml", "--format", "html"]);
    let page = Html::parse_document(&html);
    // No element came from a value: no script, no image, no bold text.
    assert!(
        select(&page, "script").is_empty(),
        "a <script> element:\n{html}"
    );
    assert!(select(&page, "img").is_empty(), "an <img> element");
    assert!(
        select(&page, "main b")
            .iter()
            .all(|b| text(b) != "gisteren")
    );
    // The values are there, as text.
    assert!(text(&select(&page, "title")[0]).contains("Lente <script>alert(1)</script>"));
    let cells: Vec<String> = select(&page, "td").iter().map(text).collect();
    for value in [
        "<img src=x>@example.nl",
        "<script>alert('bron')</script>",
        "<b>gisteren</b>",
    ] {
        assert!(
            cells.iter().any(|c| c.contains(value)),
            "{value} is not shown as text in a cell: {cells:?}"
        );
    }
    // The preview: the subject as text; the message's HTML only inside a
    // sandboxed iframe's srcdoc, where the recipient's value is escaped by
    // the template as it is in the message sent.
    let subject = text(&select(&page, "#preview-subject")[0]);
    assert_eq!(subject, "Hallo <script>alert('naam')</script> <b>&</b>");
    let iframe = select(&page, "iframe.message");
    assert_eq!(iframe.len(), 1);
    assert_eq!(iframe[0].value().attr("sandbox"), Some(""));
    let srcdoc = iframe[0].value().attr("srcdoc").expect("srcdoc");
    assert!(srcdoc.contains("Hallo &lt;script&gt;"), "{srcdoc}");
    assert!(srcdoc.contains("Content-Security-Policy"), "{srcdoc}");
}

#[test]
fn the_page_loads_nothing_from_anywhere() {
    let html = lint(
        &repo_root(),
        &["fixtures/demo/campaign.toml", "--format", "html"],
    );
    let page = Html::parse_document(&html);
    for css in [
        "script", "link", "img", "object", "embed", "audio", "video", "base",
    ] {
        assert!(select(&page, css).is_empty(), "the page has a <{css}>");
    }
    // Links only within the page; no source or style from elsewhere.
    for element in select(&page, "[href]") {
        let href = element.value().attr("href").unwrap_or_default();
        assert!(href.starts_with('#'), "a link out of the page: {href}");
    }
    let sources: Vec<_> = select(&page, "[src]")
        .iter()
        .map(|e| e.value().attr("src"))
        .collect();
    assert!(sources.is_empty(), "elements load {sources:?}");
    assert!(!html.contains("@import") && !html.contains("url("));
    let csp = select(&page, "meta[http-equiv=Content-Security-Policy]");
    assert_eq!(csp.len(), 1);
    assert!(
        csp[0]
            .value()
            .attr("content")
            .is_some_and(|c| c.starts_with("default-src 'none'"))
    );
}

#[test]
fn a_rule_shows_its_first_thousand_rows_and_counts_the_rest() {
    let mut list = String::from("email,first_name,customer\n");
    for i in 0..2_500 {
        list.push_str(&format!("p{i}@example.nl,P{i},no\n"));
    }
    list.push_str("klant@example.nl,K,yes\n");
    let dir = campaign(&list);
    let html = lint(dir.path(), &["campaign.toml", "--format", "html"]);
    let page = Html::parse_document(&html);
    let rows = select(&page, "#rule-no-consent tbody tr");
    assert_eq!(rows.len(), 1_000);
    let more = text(&select(&page, "#rule-no-consent .more")[0]);
    assert!(more.contains("1,500 more"), "{more}");
    let bar = &select(&page, "rect.bar[data-rule=no-consent]")[0];
    assert_eq!(bar.value().attr("data-count"), Some("2500"));
    // 1,000 rows of a few short cells each.
    assert!(html.len() < 600_000, "{} bytes", html.len());
}

// ------------------------------------------------------------------ Chromium

/// The browser: `MAILGATE_TEST_CHROMIUM`, else `chromium` on the PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MAILGATE_TEST_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    })
}

/// Where Chromium itself connects at start, whatever the page: its network
/// clock (clients2.google.com), component updater (update.googleapis.com)
/// and account service (accounts.google.com), now and then its captive-portal
/// probe (www.gstatic.com/generate_204) — an empty page makes the same
/// requests. Google's service domains are treated as the browser's own, all
/// but those a page would load fonts or scripts from, which count.
fn is_browser_service(host: &str) -> bool {
    const PAGE_HOSTS: [&str; 4] = [
        "fonts.googleapis.com",
        "fonts.gstatic.com",
        "ajax.googleapis.com",
        "www.google-analytics.com",
    ];
    const SERVICE_DOMAINS: [&str; 5] = [
        "google.com",
        "googleapis.com",
        "gstatic.com",
        "gvt1.com",
        "gvt2.com",
    ];
    !PAGE_HOSTS.contains(&host)
        && SERVICE_DOMAINS
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// A proxy that answers nothing and notes the requests made through it:
/// the browser is told to send every request through it, so any request
/// the page makes shows up here.
struct CountingProxy {
    port: u16,
    /// The first line of every request not to the browser's own services.
    requests: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let port = listener.local_addr().expect("its address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let noted = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                // Read the request line and close: the request failed, and
                // it was noted.
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buffer = [0; 4096];
                let n = stream.read(&mut buffer).unwrap_or(0);
                let head = String::from_utf8_lossy(&buffer[..n]);
                let line = head.lines().next().unwrap_or("").to_owned();
                // A connection that names no destination (a preconnect the
                // browser opened and never used) requested nothing.
                if !line.is_empty() && !is_browser_service(request_host(&line)) {
                    noted.lock().expect("not poisoned").push(line);
                }
            }
        });
        CountingProxy { port, requests }
    }

    /// The requests made, other than the browser's own.
    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("not poisoned").clone()
    }
}

/// The host of a proxy request line: `CONNECT host:443 HTTP/1.1` or
/// `GET http://host/path HTTP/1.1`.
fn request_host(line: &str) -> &str {
    let target = line.split(' ').nth(1).unwrap_or("");
    let target = target.split_once("://").map_or(target, |(_, rest)| rest);
    let authority = target.split('/').next().unwrap_or("");
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
}

/// Runs headless Chromium on `page` with a fresh profile, every request
/// through `proxy`; returns stdout.
fn run_chromium(browser: &Path, proxy: &CountingProxy, page: &Path, extra: &[String]) -> Vec<u8> {
    let profile = tempfile::tempdir().expect("a profile directory");
    let mut child = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // Fewer of the browser's own connections at start.
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-client-side-phishing-detection",
            "--disable-domain-reliability",
            "--no-pings",
            "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{}", proxy.port))
        // Loopback too goes through the proxy.
        .arg("--proxy-bypass-list=<-loopback>")
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_end(&mut stdout)
        .expect("read chromium's output");
    let status = child.wait().expect("chromium ends");
    assert!(status.success(), "chromium failed: {status}");
    stdout
}

/// The width and height in a PNG's header.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes"));
    (word(16), word(20))
}

#[test]
fn the_demo_report_as_a_person_sees_it_in_chromium() {
    let Some(browser) = chromium() else {
        eprintln!(
            "SKIPPED the_demo_report_as_a_person_sees_it_in_chromium: no chromium on the PATH \
             (scripts/setup-test-deps.sh installs Debian's; or set MAILGATE_TEST_CHROMIUM)"
        );
        return;
    };
    let root = repo_root();
    let html = lint(&root, &["fixtures/demo/campaign.toml", "--format", "html"]);
    let json = lint(&root, &["fixtures/demo/campaign.toml", "--format", "json"]);
    report_schema::assert_valid(json.as_bytes());
    let json: Value = serde_json::from_str(&json).expect("the JSON report");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let page = dir.path().join("demo-report.html");
    std::fs::write(&page, &html).expect("write the page");
    let proxy = CountingProxy::start();

    // A screenshot, as the README shows it.
    let (width, height) = (1200, 1600);
    let shot = dir.path().join("demo-report.png");
    run_chromium(
        &browser,
        &proxy,
        &page,
        &[
            format!("--window-size={width},{height}"),
            format!("--screenshot={}", shot.display()),
        ],
    );
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert_eq!(png_size(&png), (width, height));
    assert!(
        png.len() > 20_000,
        "a blank screenshot? {} bytes",
        png.len()
    );
    let screenshots = root.join("target/screenshots");
    std::fs::create_dir_all(&screenshots).expect("target/screenshots");
    std::fs::write(screenshots.join("demo-report.png"), &png).expect("keep the screenshot");
    if std::env::var_os("MAILGATE_UPDATE_SCREENSHOTS").is_some() {
        std::fs::write(root.join("docs/demo-report.png"), &png).expect("update the README's");
    }

    // The DOM as Chromium built it.
    let dom = run_chromium(
        &browser,
        &proxy,
        &page,
        &[
            "--dump-dom".to_owned(),
            "--virtual-time-budget=2000".to_owned(),
        ],
    );
    let dom = Html::parse_document(&String::from_utf8_lossy(&dom));
    let number = |id: &str| {
        let value = select(&dom, &format!("#{id} .value"));
        assert_eq!(value.len(), 1, "#{id} in the DOM");
        text(&value[0]).replace(',', "")
    };
    let summary = &json["summary"];
    for key in ["sendable", "blocked", "errors", "warnings"] {
        assert_eq!(number(key), summary[key].to_string(), "{key}");
    }
    // One bar per recipient rule, as long as its count.
    let mut rows_per_rule: BTreeMap<String, u64> = BTreeMap::new();
    for d in json["diagnostics"].as_array().expect("diagnostics") {
        if d["scope"] == "recipient" {
            *rows_per_rule
                .entry(d["rule"].as_str().expect("rule").to_owned())
                .or_default() += 1;
        }
    }
    let bars: BTreeMap<String, u64> = select(&dom, "svg.chart rect.bar")
        .iter()
        .map(|bar| {
            let attr = |name: &str| bar.value().attr(name).expect(name).to_owned();
            (
                attr("data-rule"),
                attr("data-count").parse().expect("a count"),
            )
        })
        .collect();
    assert_eq!(bars, rows_per_rule);
    // The preview: a subject and the message's HTML in its sandbox.
    let subject = text(&select(&dom, "#preview-subject")[0]);
    assert!(!subject.trim().is_empty(), "no subject in the preview");
    let iframe = select(&dom, "iframe.message");
    assert_eq!(iframe.len(), 1, "the message preview");
    let srcdoc = iframe[0].value().attr("srcdoc").unwrap_or_default();
    assert!(srcdoc.contains("afmelden"), "{srcdoc}");

    assert_eq!(
        proxy.requests(),
        Vec::<String>::new(),
        "requests left the page"
    );
}

#[test]
fn the_request_check_sees_a_page_that_loads_something() {
    // So that "no request left the page" above means something: a page
    // with a remote image is caught by the same proxy.
    let Some(browser) = chromium() else {
        eprintln!("SKIPPED the_request_check_sees_a_page_that_loads_something: no chromium");
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let page = dir.path().join("leaky.html");
    std::fs::write(&page, "<p>hi</p><img src=\"http://tracker.example/p.gif\">")
        .expect("write the page");
    let proxy = CountingProxy::start();
    run_chromium(
        &browser,
        &proxy,
        &page,
        &[
            "--dump-dom".to_owned(),
            "--virtual-time-budget=2000".to_owned(),
        ],
    );
    let requests = proxy.requests();
    assert!(
        requests
            .iter()
            .any(|r| request_host(r) == "tracker.example"),
        "the proxy saw no request for the image: {requests:?}"
    );
}

#[test]
fn a_tracking_pixel_in_the_draft_is_not_loaded_by_the_preview() {
    let Some(browser) = chromium() else {
        eprintln!(
            "SKIPPED a_tracking_pixel_in_the_draft_is_not_loaded_by_the_preview: no chromium"
        );
        return;
    };
    // The draft's HTML has <img src="https://tracker.example/p.gif">.
    let dir = campaign("email,first_name,customer,purchased\nanna@example.nl,Anna,yes,bbq\n");
    let html = lint(dir.path(), &["campaign.toml", "--format", "html"]);
    assert!(
        html.contains("tracker.example"),
        "the preview lacks the draft's image"
    );
    let page = dir.path().join("report.html");
    std::fs::write(&page, html).expect("write the page");
    let proxy = CountingProxy::start();
    run_chromium(
        &browser,
        &proxy,
        &page,
        &[
            "--dump-dom".to_owned(),
            "--virtual-time-budget=2000".to_owned(),
        ],
    );
    assert_eq!(
        proxy.requests(),
        Vec::<String>::new(),
        "requests left the page"
    );
}

#[test]
fn request_hosts_are_read_from_proxy_request_lines() {
    assert_eq!(
        request_host("CONNECT update.googleapis.com:443 HTTP/1.1"),
        "update.googleapis.com"
    );
    assert_eq!(
        request_host("GET http://tracker.example/p.gif HTTP/1.1"),
        "tracker.example"
    );
    assert_eq!(
        request_host("GET http://127.0.0.1:8080/ HTTP/1.1"),
        "127.0.0.1"
    );
}

#[test]
fn the_browsers_own_hosts_are_told_from_what_a_page_loads() {
    for own in [
        "update.googleapis.com",
        "clients2.google.com",
        "www.gstatic.com",
        "redirector.gvt1.com",
    ] {
        assert!(is_browser_service(own), "{own}");
    }
    for page in [
        "fonts.googleapis.com",
        "fonts.gstatic.com",
        "www.google-analytics.com",
        "tracker.example",
        "notgoogle.com",
        "",
    ] {
        assert!(!is_browser_service(page), "{page}");
    }
}
