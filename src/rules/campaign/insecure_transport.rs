//! `insecure-transport`: tls = "none" to a host that is not loopback.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::rules::RuleId;

crate::declare_rule! {
    name: "insecure-transport",
    scope: campaign,
    default: error,
    order: 30,
    summary: "tls = \"none\" to a host that is not loopback",
    explain: "insecure_transport.md",
}

/// `tls = "none"` to a host that is not loopback.
pub fn check(campaign: &Campaign, out: &mut Vec<Finding>) {
    if let Some(smtp) = &campaign.smtp
        && smtp.is_clear_text_off_machine()
    {
        out.push(
            Finding::new(
                RuleId::InsecureTransport,
                format!(
                    "tls = \"none\" sends mail and the password in clear text to {}; \
                         use \"starttls\" or \"tls\"",
                    smtp.host
                ),
            )
            .at(smtp.tls_at)
            .field("smtp.tls"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::campaign::is_loopback;

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "127.3.4.5", "::1", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "smtp.example.nl",
            "10.0.0.1",
            "192.168.1.1",
            "localhost.example.nl",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
