//! Downloads: the system's certificate store (so a TLS-inspecting proxy's CA added to the stack
//! is trusted), retries with backoff on connection errors and 5xx answers, the sha256 checked
//! before anything is used, and an operator's mirror.

use crate::error::ErrorMessage;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The Paketo convention for rewriting download URLs to a mirror: `https://mirror.example.org`
/// replaces scheme and host; a `{originalHost}` placeholder keeps the original host in the path.
pub const MIRROR_ENV: &str = "BP_DEPENDENCY_MIRROR";

/// Attempts per request: the first and three retries, after 1, 2 and 4 seconds.
const ATTEMPTS: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadError {
    /// No answer: DNS, connection, TLS, or the connection broke while reading.
    Transport { url: String, message: String },
    /// An HTTP status other than 200.
    Status { url: String, status: u16 },
    /// The file arrived, but is not the one the inventory names.
    ChecksumMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    /// Writing the download to the layer failed.
    Io { path: PathBuf, message: String },
}

impl std::error::Error for DownloadError {}

impl std::fmt::Display for DownloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport { url, message } => write!(f, "cannot download {url}: {message}"),
            Self::Status { url, status } => write!(f, "downloading {url} failed: HTTP {status}"),
            Self::ChecksumMismatch {
                url,
                expected,
                actual,
            } => {
                write!(f, "{url} has sha256 {actual}, expected {expected}")
            }
            Self::Io { path, message } => write!(f, "cannot write {}: {message}", path.display()),
        }
    }
}

impl DownloadError {
    /// The user-facing message for a failed download of `what` (`Python 3.13.5`).
    #[must_use]
    pub fn message(&self, what: &str) -> ErrorMessage {
        match self {
            Self::ChecksumMismatch {
                url,
                expected,
                actual,
            } => ErrorMessage::platform(
                format!("Download of {what} is corrupt"),
                format!(
                    "The file downloaded from {url} is not the one the inventory names: its sha256 is \
                     {actual}, the inventory says {expected}. Nothing was kept."
                ),
            )
            .fix(
                "build again; if it fails again, the mirror or the inventory is wrong (an operator's \
                 BP_DEPENDENCY_MIRROR or inventory setting names the wrong files).",
            ),
            Self::Transport { url, message } => ErrorMessage::platform(
                format!("Cannot download {what}"),
                format!("No answer from {url} after {ATTEMPTS} attempts: {message}."),
            ),
            Self::Status { url, status } => ErrorMessage::platform(
                format!("Cannot download {what}"),
                format!("{url} answered HTTP {status}."),
            ),
            Self::Io { path, message } => ErrorMessage::platform(
                format!("Cannot store {what}"),
                format!("Writing {} failed: {message}.", path.display()),
            ),
        }
    }
}

/// The sha256 of a file, in hex: for layer keys that depend on the app's files (lockfiles).
///
/// # Errors
///
/// When the file cannot be read.
pub fn file_sha256(path: &std::path::Path) -> std::io::Result<String> {
    Ok(sha256(&std::fs::read(path)?))
}

/// The sha256 of `bytes`, in hex: [`file_sha256`] of a file read already.
#[must_use]
pub fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Rewrites `url` to the mirror, if one is set.
#[must_use]
pub fn apply_mirror(url: &str, mirror: Option<&str>) -> String {
    let Some(mirror) = mirror.map(|m| m.trim_end_matches('/')).filter(|m| !m.is_empty()) else {
        return url.to_string();
    };
    let Some((_, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, ""), |(host, path)| (host, path));
    format!("{}/{path}", mirror.replace("{originalHost}", host))
}

/// Downloads with retries; see the module documentation.
pub struct Downloader {
    agent: ureq::Agent,
    mirror: Option<String>,
    backoff: Duration,
}

impl Downloader {
    /// A downloader using the system certificate store and the mirror named by
    /// `BP_DEPENDENCY_MIRROR` in `env` (the build's environment, including `pack build --env`).
    #[must_use]
    pub fn new(mirror: Option<String>) -> Self {
        let agent = ureq::Agent::config_builder()
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .timeout_connect(Some(Duration::from_secs(20)))
            .timeout_recv_body(Some(Duration::from_mins(2)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self {
            agent,
            mirror,
            backoff: Duration::from_secs(1),
        }
    }

    /// As [`Self::new`], with the mirror from the environment.
    #[must_use]
    pub fn from_env(env: &libcnb::Env) -> Self {
        Self::new(env.get_string_lossy(MIRROR_ENV))
    }

    /// The URL actually fetched for `url`.
    #[must_use]
    pub fn effective_url(&self, url: &str) -> String {
        apply_mirror(url, self.mirror.as_deref())
    }

    /// Fetches a small text document (an inventory).
    ///
    /// # Errors
    ///
    /// When every attempt fails.
    pub fn fetch_text(&self, url: &str) -> Result<String, DownloadError> {
        let url = self.effective_url(url);
        self.with_retries(&url, |body| {
            let mut text = String::new();
            body.read_to_string(&mut text).map(|_| text)
        })
    }

    /// Downloads `url` to `destination`, checking its sha256 before the file gets its name.
    /// On any failure, nothing is left at `destination`.
    ///
    /// # Errors
    ///
    /// When every attempt fails or the checksum differs.
    pub fn download_verified(
        &self,
        url: &str,
        sha256: &str,
        destination: &Path,
    ) -> Result<(), DownloadError> {
        let url = self.effective_url(url);
        let partial = PathBuf::from(format!("{}.partial", destination.display()));
        let io_error = |error: std::io::Error| DownloadError::Io {
            path: partial.clone(),
            message: error.to_string(),
        };
        let actual = self.with_retries(&url, |body| {
            let mut file = std::fs::File::create(&partial)?;
            let mut hasher = Sha256::new();
            let mut buffer = vec![0; 256 * 1024];
            loop {
                let read = body.read(&mut buffer)?;
                if read == 0 {
                    break;
                }
                hasher.update(&buffer[..read]);
                file.write_all(&buffer[..read])?;
            }
            file.sync_all()?;
            Ok(format!("{:x}", hasher.finalize()))
        });
        let actual = match actual {
            Ok(actual) => actual,
            Err(error) => {
                let _ = std::fs::remove_file(&partial);
                return Err(error);
            }
        };
        if !actual.eq_ignore_ascii_case(sha256) {
            let _ = std::fs::remove_file(&partial);
            return Err(DownloadError::ChecksumMismatch {
                url,
                expected: sha256.to_string(),
                actual,
            });
        }
        std::fs::rename(&partial, destination).map_err(io_error)
    }

    fn with_retries<T>(
        &self,
        url: &str,
        read: impl Fn(&mut dyn Read) -> std::io::Result<T>,
    ) -> Result<T, DownloadError> {
        let mut last_error = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(self.backoff * 2u32.pow(attempt - 1));
            }
            match self.agent.get(url).call() {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    if status == 200 {
                        let mut body = response.body_mut().as_reader();
                        match read(&mut body) {
                            Ok(value) => return Ok(value),
                            Err(error) => {
                                last_error = Some(DownloadError::Transport {
                                    url: url.to_string(),
                                    message: error.to_string(),
                                });
                            }
                        }
                    } else if status >= 500 {
                        last_error = Some(DownloadError::Status {
                            url: url.to_string(),
                            status,
                        });
                    } else {
                        // 4xx: asking again will not help.
                        return Err(DownloadError::Status {
                            url: url.to_string(),
                            status,
                        });
                    }
                }
                Err(error) => {
                    last_error = Some(DownloadError::Transport {
                        url: url.to_string(),
                        message: error.to_string(),
                    });
                }
            }
        }
        Err(last_error.unwrap_or_else(|| DownloadError::Transport {
            url: url.to_string(),
            message: "no attempt was made".to_string(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    #[test]
    fn mirror_rewrites_scheme_and_host() {
        let url = "https://github.com/astral-sh/python-build-standalone/releases/download/x/c.tar.gz";
        assert_eq!(apply_mirror(url, None), url);
        assert_eq!(apply_mirror(url, Some("")), url);
        assert_eq!(
            apply_mirror(url, Some("https://mirror.example.org/")),
            "https://mirror.example.org/astral-sh/python-build-standalone/releases/download/x/c.tar.gz"
        );
        assert_eq!(
            apply_mirror(url, Some("http://127.0.0.1:9000/{originalHost}")),
            "http://127.0.0.1:9000/github.com/astral-sh/python-build-standalone/releases/download/x/c.tar.gz"
        );
    }

    /// Serves the given (status, body) answers in order on 127.0.0.1, one per connection.
    fn serve(answers: Vec<(u16, &'static [u8])>) -> (String, Arc<Mutex<usize>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let served = Arc::new(Mutex::new(0));
        let counter = Arc::clone(&served);
        std::thread::spawn(move || {
            for (status, body) in answers {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                let mut request = [0; 4096];
                let _ = stream.read(&mut request);
                let header = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(header.as_bytes());
                let _ = stream.write_all(body);
                *counter.lock().unwrap() += 1;
            }
        });
        (format!("http://{address}/file"), served)
    }

    fn downloader() -> Downloader {
        Downloader {
            backoff: Duration::from_millis(1),
            ..Downloader::new(None)
        }
    }

    #[test]
    fn retries_server_errors_then_verifies() {
        let (url, served) = serve(vec![(503, b"busy"), (502, b"busy"), (200, b"runtime")]);
        let dir = tempfile::tempdir().unwrap();
        let destination = dir.path().join("runtime.tar.gz");
        downloader()
            .download_verified(&url, &sha256(b"runtime"), &destination)
            .unwrap();
        assert_eq!(std::fs::read(&destination).unwrap(), b"runtime");
        assert_eq!(*served.lock().unwrap(), 3);
    }

    #[test]
    fn checksum_mismatch_leaves_nothing() {
        let (url, _) = serve(vec![(200, b"tampered")]);
        let dir = tempfile::tempdir().unwrap();
        let destination = dir.path().join("runtime.tar.gz");
        let error = downloader()
            .download_verified(&url, &sha256(b"runtime"), &destination)
            .unwrap_err();
        assert!(matches!(error, DownloadError::ChecksumMismatch { .. }), "{error}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn client_errors_are_not_retried() {
        let (url, served) = serve(vec![(404, b"no"), (200, b"never asked")]);
        let error = downloader().fetch_text(&url).unwrap_err();
        assert_eq!(error, DownloadError::Status { url, status: 404 });
        assert_eq!(*served.lock().unwrap(), 1);
    }

    #[test]
    fn gives_up_after_all_attempts() {
        let (url, served) = serve(vec![(500, b""), (500, b""), (500, b""), (500, b"")]);
        let error = downloader().fetch_text(&url).unwrap_err();
        assert_eq!(error, DownloadError::Status { url, status: 500 });
        assert_eq!(*served.lock().unwrap(), 4);
    }

    #[test]
    fn checksum_message_is_rendered() {
        let error = DownloadError::ChecksumMismatch {
            url: "http://127.0.0.1:1/python.tar.gz".into(),
            expected: "a".repeat(64),
            actual: "b".repeat(64),
        };
        insta::assert_snapshot!(error.message("Python 3.13.5").render());
    }
}
