//! Downloads: the system's certificate store (so a TLS-inspecting proxy's CA added to the stack
//! is trusted), every wait bounded per step and never in total (a large runtime on a slow but
//! live link finishes; a server that stops sending fails), retries with backoff on connection
//! errors, 429 and 5xx answers, resumed with a Range request where the server supports it,
//! redirects followed here so that none leaves HTTPS, the sha256 checked before anything is used,
//! and an operator's mirror.

use crate::error::ErrorMessage;
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The Paketo convention for rewriting download URLs to a mirror: `https://mirror.example.org`
/// replaces scheme and host; a `{originalHost}` placeholder keeps the original host in the path.
pub const MIRROR_ENV: &str = "BP_DEPENDENCY_MIRROR";

/// Attempts per request: the first and three retries, after 1, 2 and 4 seconds.
const ATTEMPTS: u32 = 4;

/// Redirects followed per attempt: GitHub's release assets take one, a mirror maybe one more;
/// ten means a loop.
const MAX_REDIRECTS: u32 = 10;

/// Resolving, connecting, TLS and sending the request: a reachable server does this in well
/// under a second, an overloaded one in a few; twenty is a host that is not there.
const CONNECT_BOUND: Duration = Duration::from_secs(20);

/// From the request sent to the last response header: a CDN filling its cache from a slow
/// origin may think for a while before answering, a server that takes a minute never will.
const RESPONSE_HEADERS_BOUND: Duration = Duration::from_mins(1);

/// Each read, headers and body alike: no byte at all for this long is a dead transfer, while a
/// slow link that keeps sending anything is never cut off, however long the whole file takes.
const PER_READ_BOUND: Duration = Duration::from_secs(30);

/// The first retry's wait, doubled for each further one.
const BACKOFF: Duration = Duration::from_secs(1);

/// The longest `Retry-After` honoured: a build cannot wait minutes for a rate limit to lift, so
/// a longer request is cut to this and the retry tried anyway.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(10);

/// How long each step of a download may take and how long retries wait. Every bound is per
/// step, none is a total. [`Default`] is what builds use; tests pass short ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadPolicy {
    /// Resolving the host, connecting (TLS included) and sending the request.
    pub connect: Duration,
    /// From the request sent to the complete response headers.
    pub response_headers: Duration,
    /// Each read from the connection.
    pub per_read: Duration,
    /// The first retry's wait, doubled for each further one.
    pub backoff: Duration,
    /// The longest `Retry-After` honoured.
    pub retry_after_cap: Duration,
}

impl Default for DownloadPolicy {
    fn default() -> Self {
        Self {
            connect: CONNECT_BOUND,
            response_headers: RESPONSE_HEADERS_BOUND,
            per_read: PER_READ_BOUND,
            backoff: BACKOFF,
            retry_after_cap: RETRY_AFTER_CAP,
        }
    }
}

impl DownloadPolicy {
    /// The wait before retry number `retry` (1-based): the backoff, or the server's
    /// `Retry-After` in seconds when longer, up to the cap. (An HTTP-date `Retry-After` gets the
    /// backoff: build hosts' clocks are not to be trusted against a server's.)
    fn retry_delay(&self, retry: u32, retry_after: Option<&str>) -> Duration {
        let backoff = self.backoff * 2u32.pow(retry.saturating_sub(1));
        let asked = retry_after
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(|seconds| Duration::from_secs(seconds).min(self.retry_after_cap));
        asked.map_or(backoff, |asked| asked.max(backoff))
    }

    /// What a timeout means, in words.
    fn describe(&self, error: ureq::Error) -> String {
        let seconds = |bound: Duration| format!("{} s", bound.as_secs_f64());
        match error {
            ureq::Error::Timeout(
                ureq::Timeout::Resolve | ureq::Timeout::Connect | ureq::Timeout::SendRequest,
            ) => format!("could not connect within {}", seconds(self.connect)),
            ureq::Error::Timeout(ureq::Timeout::RecvResponse) => {
                format!(
                    "no answer within {} of the request",
                    seconds(self.response_headers)
                )
            }
            ureq::Error::Timeout(ureq::Timeout::PerRead) => {
                format!("nothing received for {}", seconds(self.per_read))
            }
            ureq::Error::Io(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
                "the connection closed early".to_string()
            }
            error => error.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadError {
    /// No answer: DNS, connection, TLS, a timeout, or the connection broke while reading.
    Transport { url: String, message: String },
    /// An HTTP status other than 200 (and 206 to a resumed request).
    Status { url: String, status: u16 },
    /// A redirect from HTTPS to anything else: whoever is on the path could swap the file.
    InsecureRedirect { url: String, location: String },
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
            Self::InsecureRedirect { url, location } => {
                write!(f, "{url} redirected to {location}, which is not HTTPS")
            }
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
            Self::InsecureRedirect { url, location } => ErrorMessage::platform(
                format!("Cannot download {what}"),
                format!(
                    "{url} redirected to {location}, which is not HTTPS. A download that starts on \
                     HTTPS is never continued without it: anyone on the path could replace the file."
                ),
            )
            .fix(
                "the server or the mirror (an operator's BP_DEPENDENCY_MIRROR) must redirect to an \
                 https:// address.",
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

/// Where a redirect from `from` to `location` (absolute or relative) leads.
///
/// # Errors
///
/// [`DownloadError::InsecureRedirect`] when `from` is HTTPS and the target is not;
/// [`DownloadError::Transport`] when `location` is not a URL.
fn redirect_target(from: &str, location: &str) -> Result<String, DownloadError> {
    let target = url::Url::parse(from)
        .and_then(|from| from.join(location))
        .map_err(|error| DownloadError::Transport {
            url: from.to_string(),
            message: format!("redirected to {location:?}, which is not a URL ({error})"),
        })?;
    if from.starts_with("https://") && target.scheme() != "https" {
        return Err(DownloadError::InsecureRedirect {
            url: from.to_string(),
            location: target.to_string(),
        });
    }
    Ok(target.to_string())
}

/// Where a download's bytes go. It outlives one attempt, so that a retry can resume from
/// [`Sink::len`] bytes.
trait Sink {
    fn len(&self) -> u64;
    /// Forgets what was received: the next bytes are the file's first.
    fn restart(&mut self) -> Result<(), DownloadError>;
    fn append(&mut self, bytes: &[u8]) -> Result<(), DownloadError>;
}

impl Sink for Vec<u8> {
    fn len(&self) -> u64 {
        self.len() as u64
    }

    fn restart(&mut self) -> Result<(), DownloadError> {
        self.clear();
        Ok(())
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), DownloadError> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

/// A file being downloaded, hashed as it arrives.
struct PartialFile {
    path: PathBuf,
    file: std::fs::File,
    hasher: Sha256,
    len: u64,
}

impl PartialFile {
    fn create(path: PathBuf) -> Result<Self, DownloadError> {
        let file = std::fs::File::create(&path).map_err(|error| io_error(&path, &error))?;
        Ok(Self {
            path,
            file,
            hasher: Sha256::new(),
            len: 0,
        })
    }

    fn finish(self) -> Result<String, DownloadError> {
        self.file
            .sync_all()
            .map_err(|error| io_error(&self.path, &error))?;
        Ok(format!("{:x}", self.hasher.finalize()))
    }
}

fn io_error(path: &Path, error: &std::io::Error) -> DownloadError {
    DownloadError::Io {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

impl Sink for PartialFile {
    fn len(&self) -> u64 {
        self.len
    }

    fn restart(&mut self) -> Result<(), DownloadError> {
        self.file
            .set_len(0)
            .and_then(|()| self.file.rewind())
            .map_err(|error| io_error(&self.path, &error))?;
        self.hasher = Sha256::new();
        self.len = 0;
        Ok(())
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), DownloadError> {
        self.file
            .write_all(bytes)
            .map_err(|error| io_error(&self.path, &error))?;
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }
}

/// Why one attempt failed: worth another, or final.
enum Failure {
    Retry {
        error: DownloadError,
        retry_after: Option<String>,
    },
    Final(DownloadError),
}

impl From<DownloadError> for Failure {
    fn from(error: DownloadError) -> Self {
        Self::Final(error)
    }
}

/// Downloads with retries; see the module documentation.
pub struct Downloader {
    agent: ureq::Agent,
    mirror: Option<String>,
    policy: DownloadPolicy,
}

impl Downloader {
    /// A downloader using the system certificate store and the mirror named by
    /// `BP_DEPENDENCY_MIRROR` in `env` (the build's environment, including `pack build --env`).
    #[must_use]
    pub fn new(mirror: Option<String>) -> Self {
        Self::with_policy(mirror, DownloadPolicy::default())
    }

    /// As [`Self::new`], with other bounds and waits.
    #[must_use]
    pub fn with_policy(mirror: Option<String>, policy: DownloadPolicy) -> Self {
        let agent = ureq::Agent::config_builder()
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .timeout_resolve(Some(policy.connect))
            .timeout_connect(Some(policy.connect))
            .timeout_send_request(Some(policy.connect))
            .timeout_recv_response(Some(policy.response_headers))
            // Deliberately no timeout_recv_body: that is a total, and would fail a large file
            // on a slow link that is still sending.
            .timeout_per_read(Some(policy.per_read))
            // Followed in `get`, which refuses to leave HTTPS; ureq would follow any.
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self {
            agent,
            mirror,
            policy,
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
    /// When every attempt fails, or the answer is not UTF-8.
    pub fn fetch_text(&self, url: &str) -> Result<String, DownloadError> {
        let url = self.effective_url(url);
        let mut bytes = Vec::new();
        self.with_retries(&url, &mut bytes)?;
        String::from_utf8(bytes).map_err(|_| DownloadError::Transport {
            url,
            message: "the answer is not UTF-8 text".to_string(),
        })
    }

    /// Downloads `url` to `destination`, checking its sha256 before the file gets its name.
    /// On any failure, nothing is left at `destination`. A file that does not match is
    /// downloaded once more from its start: a transfer can be damaged on the way (a body longer
    /// than its Content-Length, a resumed file that changed on the server in between).
    ///
    /// # Errors
    ///
    /// When every attempt fails or the checksum differs twice.
    pub fn download_verified(
        &self,
        url: &str,
        sha256: &str,
        destination: &Path,
    ) -> Result<(), DownloadError> {
        let url = self.effective_url(url);
        let partial = PathBuf::from(format!("{}.partial", destination.display()));
        let mut mismatch = None;
        for _ in 0..2 {
            let actual = PartialFile::create(partial.clone()).and_then(|mut file| {
                self.with_retries(&url, &mut file)?;
                file.finish()
            });
            match actual {
                Ok(actual) if actual.eq_ignore_ascii_case(sha256) => {
                    return std::fs::rename(&partial, destination)
                        .map_err(|error| io_error(&partial, &error));
                }
                Ok(actual) => {
                    mismatch = Some(DownloadError::ChecksumMismatch {
                        url: url.clone(),
                        expected: sha256.to_string(),
                        actual,
                    });
                }
                Err(error) => {
                    let _ = std::fs::remove_file(&partial);
                    return Err(error);
                }
            }
        }
        let _ = std::fs::remove_file(&partial);
        Err(mismatch.unwrap_or_else(|| DownloadError::Transport {
            url,
            message: "no attempt was made".to_string(),
        }))
    }

    fn with_retries(&self, url: &str, sink: &mut dyn Sink) -> Result<(), DownloadError> {
        let mut last_error = None;
        // What identifies the version being resumed (ETag, else Last-Modified): sent as
        // If-Range, so that a server whose file changed sends it whole instead of a tail.
        let mut validator = None;
        let mut retry_after = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(self.policy.retry_delay(attempt, retry_after.as_deref()));
            }
            match self.attempt(url, sink, &mut validator) {
                Ok(()) => return Ok(()),
                Err(Failure::Final(error)) => return Err(error),
                Err(Failure::Retry {
                    error,
                    retry_after: asked,
                }) => {
                    last_error = Some(error);
                    retry_after = asked;
                }
            }
        }
        Err(last_error.unwrap_or_else(|| DownloadError::Transport {
            url: url.to_string(),
            message: "no attempt was made".to_string(),
        }))
    }

    /// One request, resumed from what `sink` holds; its body appended to `sink`.
    fn attempt(&self, url: &str, sink: &mut dyn Sink, validator: &mut Option<String>) -> Result<(), Failure> {
        let resume_from = sink.len();
        let resuming = resume_from > 0;
        let mut response = self.get(url, resume_from, validator.as_deref())?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        };
        let status = response.status().as_u16();
        let retry = |error: DownloadError| Failure::Retry {
            error,
            retry_after: None,
        };
        let transport = |message: String| {
            retry(DownloadError::Transport {
                url: url.to_string(),
                message,
            })
        };
        let expected = match status {
            200 => {
                sink.restart()?;
                *validator = header("etag")
                    .filter(|tag| !tag.starts_with("W/"))
                    .or_else(|| header("last-modified"));
                response.body().content_length()
            }
            206 if resuming => {
                let range = header("content-range").unwrap_or_default();
                let Some(length) = continuation_length(&range, resume_from) else {
                    sink.restart()?;
                    return Err(transport(format!(
                        "asked for the bytes from {resume_from} on, the server sent {range:?}"
                    )));
                };
                Some(length)
            }
            416 if resuming => {
                sink.restart()?;
                return Err(retry(DownloadError::Status {
                    url: url.to_string(),
                    status,
                }));
            }
            429 | 500..=599 => {
                return Err(Failure::Retry {
                    error: DownloadError::Status {
                        url: url.to_string(),
                        status,
                    },
                    retry_after: header("retry-after"),
                });
            }
            // Other 4xx (and the odd 1xx or 3xx): asking again will not help.
            _ => {
                return Err(Failure::Final(DownloadError::Status {
                    url: url.to_string(),
                    status,
                }));
            }
        };
        let mut body = response.body_mut().as_reader();
        let mut buffer = vec![0; 256 * 1024];
        let mut received = 0;
        loop {
            let read = body.read(&mut buffer).map_err(|error| {
                transport(match expected {
                    Some(expected) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
                        format!("the connection closed after {received} of {expected} bytes")
                    }
                    _ => self.policy.describe(error.into()),
                })
            })?;
            if read == 0 {
                break;
            }
            sink.append(&buffer[..read])?;
            received += read as u64;
        }
        match expected {
            Some(expected) if received < expected => Err(transport(format!(
                "the connection closed after {received} of {expected} bytes"
            ))),
            Some(expected) if received > expected => {
                sink.restart()?;
                Err(transport(format!(
                    "{received} bytes arrived, {expected} were announced"
                )))
            }
            _ => Ok(()),
        }
    }

    /// The response to a GET of `url` from byte `resume_from` on, redirects followed.
    fn get(
        &self,
        url: &str,
        resume_from: u64,
        validator: Option<&str>,
    ) -> Result<ureq::http::Response<ureq::Body>, Failure> {
        let mut current = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            // Byte offsets of a resumed download only mean something without a content encoding.
            let mut request = self.agent.get(&current).header("Accept-Encoding", "identity");
            if resume_from > 0 {
                request = request.header("Range", format!("bytes={resume_from}-"));
                if let Some(validator) = validator {
                    request = request.header("If-Range", validator);
                }
            }
            let response = request.call().map_err(|error| Failure::Retry {
                error: DownloadError::Transport {
                    url: url.to_string(),
                    message: self.policy.describe(error),
                },
                retry_after: None,
            })?;
            if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
                return Ok(response);
            }
            let Some(location) = response
                .headers()
                .get("location")
                .and_then(|value| value.to_str().ok())
            else {
                return Ok(response);
            };
            current = redirect_target(&current, location)?;
        }
        Err(Failure::Final(DownloadError::Transport {
            url: url.to_string(),
            message: format!("more than {MAX_REDIRECTS} redirects"),
        }))
    }
}

/// The length of a 206 answer's body when its `Content-Range` (`bytes 3-6/7`) continues a file
/// at `resume_from` to its end; `None` for any other range.
fn continuation_length(content_range: &str, resume_from: u64) -> Option<u64> {
    let (range, total) = content_range.strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let (start, end): (u64, u64) = (start.trim().parse().ok()?, end.trim().parse().ok()?);
    let complete = total.trim() == "*" || total.trim().parse::<u64>().ok()? == end + 1;
    (start == resume_from && end >= start && complete).then(|| end - start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::net::{TcpListener, TcpStream};
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

    /// What a scripted connection does with the request it was sent (its head, lowercased).
    type Answer = Box<dyn FnOnce(&str, TcpStream) + Send>;

    /// Serves one scripted answer per connection on 127.0.0.1, in order; returns the URL and
    /// the request heads received so far.
    fn serve_scripted(answers: Vec<Answer>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let received = Arc::clone(&requests);
        std::thread::spawn(move || {
            for answer in answers {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                let head = read_request_head(&stream);
                received.lock().unwrap().push(head.clone());
                // Each connection on its own thread, so a hanging one does not block the next.
                std::thread::spawn(move || answer(&head, stream));
            }
        });
        (format!("http://{address}/file"), requests)
    }

    fn read_request_head(stream: &TcpStream) -> String {
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut reader = std::io::BufReader::new(stream);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                return head.to_ascii_lowercase();
            }
            head.push_str(&line);
        }
    }

    /// An answer with `status`, extra header lines, and `body` with its true length.
    fn answer(status: u16, headers: &'static str, body: &'static [u8]) -> Answer {
        answer_declaring(status, headers, body, body.len())
    }

    /// An answer whose Content-Length says `declared` whatever the body's length; the
    /// connection closes after the body.
    fn answer_declaring(status: u16, headers: &'static str, body: &'static [u8], declared: usize) -> Answer {
        Box::new(move |_, mut stream| {
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {declared}\r\n{headers}Connection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        })
    }

    /// (status, body) answers in order.
    fn serve(answers: Vec<(u16, &'static [u8])>) -> (String, Arc<Mutex<Vec<String>>>) {
        serve_scripted(
            answers
                .into_iter()
                .map(|(status, body)| answer(status, "", body))
                .collect(),
        )
    }

    /// Accepts, reads the request, and never answers (for longer than any test runs).
    fn never_answer() -> Answer {
        Box::new(|_, stream| {
            std::thread::sleep(Duration::from_secs(30));
            drop(stream);
        })
    }

    /// The bound the tests give each read and the response headers: short, so tests are fast.
    const TEST_BOUND: Duration = Duration::from_millis(400);

    fn downloader() -> Downloader {
        Downloader::with_policy(
            None,
            DownloadPolicy {
                connect: TEST_BOUND,
                response_headers: TEST_BOUND,
                per_read: TEST_BOUND,
                backoff: Duration::from_millis(1),
                retry_after_cap: Duration::from_millis(20),
            },
        )
    }

    /// Downloads `url` expecting `file`: what arrived, or the error; an error that left a file
    /// behind comes back as an `Io` error naming it, which no test expects.
    fn download(url: &str, file: &[u8]) -> Result<Vec<u8>, DownloadError> {
        let dir = tempfile::tempdir().unwrap();
        let destination = dir.path().join("runtime.tar.gz");
        match downloader().download_verified(url, &sha256(file), &destination) {
            Ok(()) => Ok(std::fs::read(&destination).unwrap()),
            Err(error) => match std::fs::read_dir(dir.path()).unwrap().next() {
                None => Err(error),
                Some(left) => Err(DownloadError::Io {
                    path: left.unwrap().path(),
                    message: format!("left behind after {error}"),
                }),
            },
        }
    }

    /// Runs `work` and fails the test when it takes longer than `limit`.
    fn within<T: Send + 'static>(limit: Duration, work: impl FnOnce() -> T + Send + 'static) -> T {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || sender.send(work()));
        receiver
            .recv_timeout(limit)
            .unwrap_or_else(|_| panic!("still running after {limit:?}"))
    }

    #[test]
    fn a_server_that_never_answers_fails_within_the_bound() {
        let (url, requests) = serve_scripted((0..ATTEMPTS).map(|_| never_answer()).collect());
        let error = within(Duration::from_secs(6), move || downloader().fetch_text(&url)).unwrap_err();
        let DownloadError::Transport { message, .. } = &error else {
            panic!("{error}");
        };
        // Whichever bound notices first: the response headers' or the read's.
        assert!(
            message.ends_with("0.4 s of the request") || message.ends_with("for 0.4 s"),
            "{message}"
        );
        assert_eq!(requests.lock().unwrap().len(), ATTEMPTS as usize);
    }

    #[test]
    fn a_slow_drip_that_keeps_progressing_succeeds() {
        const BODY: &[u8] = b"a slow runtime";
        let drip: Answer = Box::new(|_, mut stream| {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                BODY.len()
            );
            let _ = stream.write_all(head.as_bytes());
            for byte in BODY {
                // Each byte well within the per-read bound, all of them well beyond it.
                std::thread::sleep(TEST_BOUND / 4);
                let _ = stream.write_all(&[*byte]);
            }
        });
        let (url, requests) = serve_scripted(vec![drip]);
        assert_eq!(download(&url, BODY).unwrap(), BODY);
        assert_eq!(requests.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_truncated_body_resumes_with_a_range_request() {
        let resume: Answer = Box::new(|head, stream| {
            if head.contains("range: bytes=3-") {
                answer(206, "Content-Range: bytes 3-6/7\r\n", b"time")(head, stream);
            } else {
                answer(200, "", b"runtime")(head, stream);
            }
        });
        let (url, requests) = serve_scripted(vec![answer_declaring(200, "", b"run", 7), resume]);
        assert_eq!(download(&url, b"runtime").unwrap(), b"runtime");
        let requests = requests.lock().unwrap();
        assert_eq!(requests.len(), 2);
        assert!(!requests[0].contains("range:"), "{}", requests[0]);
        assert!(requests[1].contains("range: bytes=3-\r\n"), "{}", requests[1]);
    }

    #[test]
    fn a_server_ignoring_range_restarts_the_file() {
        let (url, requests) = serve_scripted(vec![
            answer_declaring(200, "", b"run", 7),
            answer(200, "", b"runtime"),
        ]);
        assert_eq!(download(&url, b"runtime").unwrap(), b"runtime");
        assert_eq!(requests.lock().unwrap().len(), 2);
    }

    #[test]
    fn rate_limiting_is_retried() {
        let (url, requests) = serve_scripted(vec![
            answer(429, "Retry-After: 0\r\n", b"slow down"),
            answer(200, "", b"inventory"),
        ]);
        assert_eq!(downloader().fetch_text(&url).unwrap(), "inventory");
        assert_eq!(requests.lock().unwrap().len(), 2);
    }

    #[test]
    fn retries_server_errors_then_verifies() {
        let (url, requests) = serve(vec![(503, b"busy"), (503, b"busy"), (200, b"runtime")]);
        assert_eq!(download(&url, b"runtime").unwrap(), b"runtime");
        assert_eq!(requests.lock().unwrap().len(), 3);
    }

    #[test]
    fn a_body_shorter_than_its_length_is_retried_then_fails() {
        let (url, requests) = serve_scripted(
            (0..ATTEMPTS)
                .map(|_| answer_declaring(200, "", b"run", 7))
                .collect(),
        );
        let error = download(&url, b"runtime").unwrap_err();
        let DownloadError::Transport { message, .. } = &error else {
            panic!("{error}");
        };
        assert_eq!(message, "the connection closed after 3 of 7 bytes");
        assert_eq!(requests.lock().unwrap().len(), ATTEMPTS as usize);
    }

    #[test]
    fn a_body_longer_than_its_length_is_downloaded_again_then_not_kept() {
        // The client reads what Content-Length declares; the sha256 catches the rest.
        let (url, requests) = serve_scripted(vec![
            answer_declaring(200, "", b"runtime", 3),
            answer_declaring(200, "", b"runtime", 3),
        ]);
        let error = download(&url, b"runtime").unwrap_err();
        assert!(matches!(error, DownloadError::ChecksumMismatch { .. }), "{error}");
        assert_eq!(requests.lock().unwrap().len(), 2);
    }

    #[test]
    fn a_damaged_transfer_is_downloaded_again() {
        let (url, _) = serve_scripted(vec![
            answer_declaring(200, "", b"runtime", 3),
            answer(200, "", b"runtime"),
        ]);
        assert_eq!(download(&url, b"runtime").unwrap(), b"runtime");
    }

    #[test]
    fn a_range_that_does_not_continue_the_file_restarts_it() {
        let (url, requests) = serve_scripted(vec![
            answer_declaring(200, "", b"run", 7),
            answer(206, "Content-Range: bytes 0-6/7\r\n", b"runtime"),
            answer(200, "", b"runtime"),
        ]);
        assert_eq!(download(&url, b"runtime").unwrap(), b"runtime");
        let requests = requests.lock().unwrap();
        assert!(!requests[2].contains("range:"), "{}", requests[2]);
    }

    #[test]
    fn a_resumed_request_names_the_version_it_continues() {
        let (url, requests) = serve_scripted(vec![
            answer_declaring(200, "ETag: \"v1\"\r\n", b"run", 7),
            answer(206, "Content-Range: bytes 3-6/7\r\n", b"time"),
        ]);
        downloader().fetch_text(&url).unwrap();
        let requests = requests.lock().unwrap();
        assert!(requests[1].contains("if-range: \"v1\"\r\n"), "{}", requests[1]);
    }

    #[test]
    fn continuation_ranges() {
        assert_eq!(continuation_length("bytes 3-6/7", 3), Some(4));
        assert_eq!(continuation_length("bytes 3-6/*", 3), Some(4));
        assert_eq!(continuation_length("bytes 0-6/7", 3), None);
        assert_eq!(continuation_length("bytes 3-5/7", 3), None);
        assert_eq!(continuation_length("bytes 3-2/7", 3), None);
        assert_eq!(continuation_length("", 3), None);
        assert_eq!(continuation_length("items 3-6/7", 3), None);
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let policy = DownloadPolicy {
            backoff: Duration::from_secs(1),
            retry_after_cap: Duration::from_secs(10),
            ..DownloadPolicy::default()
        };
        assert_eq!(policy.retry_delay(1, None), Duration::from_secs(1));
        assert_eq!(policy.retry_delay(3, None), Duration::from_secs(4));
        assert_eq!(policy.retry_delay(1, Some("5")), Duration::from_secs(5));
        assert_eq!(policy.retry_delay(1, Some("3600")), Duration::from_secs(10));
        // Never sooner than the backoff; an HTTP-date gets the backoff.
        assert_eq!(policy.retry_delay(2, Some("0")), Duration::from_secs(2));
        assert_eq!(
            policy.retry_delay(1, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn a_redirect_may_not_leave_https() {
        assert_eq!(
            redirect_target("https://github.com/a/b", "http://objects.example.org/b"),
            Err(DownloadError::InsecureRedirect {
                url: "https://github.com/a/b".into(),
                location: "http://objects.example.org/b".into(),
            })
        );
        assert!(matches!(
            redirect_target("https://github.com/a/b", "ftp://objects.example.org/b"),
            Err(DownloadError::InsecureRedirect { .. })
        ));
        assert_eq!(
            redirect_target("https://github.com/a/b", "https://objects.example.org/b").unwrap(),
            "https://objects.example.org/b"
        );
        assert_eq!(
            redirect_target("https://github.com/a/b", "/c/d").unwrap(),
            "https://github.com/c/d"
        );
        // An operator's plain-HTTP mirror may redirect anywhere, HTTPS included.
        assert_eq!(
            redirect_target("http://127.0.0.1:9000/a", "https://example.org/a").unwrap(),
            "https://example.org/a"
        );
    }

    #[test]
    fn insecure_redirect_message_is_rendered() {
        let error = redirect_target(
            "https://github.com/a/python.tar.gz",
            "http://objects.example.org/python.tar.gz",
        )
        .unwrap_err();
        insta::assert_snapshot!(error.message("Python 3.13.5").render());
    }

    #[test]
    fn timeout_message_is_rendered() {
        let error = DownloadError::Transport {
            url: "https://github.com/a/python.tar.gz".into(),
            message: DownloadPolicy::default().describe(ureq::Error::Timeout(ureq::Timeout::PerRead)),
        };
        insta::assert_snapshot!(error.message("Python 3.13.5").render());
    }

    #[test]
    fn redirects_within_http_are_followed() {
        let (url, requests) = serve_scripted(vec![
            answer(302, "Location: /elsewhere\r\n", b""),
            answer(200, "", b"inventory"),
        ]);
        assert_eq!(downloader().fetch_text(&url).unwrap(), "inventory");
        let requests = requests.lock().unwrap();
        assert!(requests[1].starts_with("get /elsewhere "), "{}", requests[1]);
    }

    #[test]
    fn checksum_mismatch_leaves_nothing() {
        let (url, requests) = serve(vec![(200, b"tampered"), (200, b"tampered")]);
        let error = download(&url, b"runtime").unwrap_err();
        assert!(matches!(error, DownloadError::ChecksumMismatch { .. }), "{error}");
        assert_eq!(requests.lock().unwrap().len(), 2);
    }

    #[test]
    fn client_errors_are_not_retried() {
        let (url, requests) = serve(vec![(404, b"no"), (200, b"never asked")]);
        let error = downloader().fetch_text(&url).unwrap_err();
        assert_eq!(error, DownloadError::Status { url, status: 404 });
        assert_eq!(requests.lock().unwrap().len(), 1);
    }

    #[test]
    fn gives_up_after_all_attempts() {
        let (url, requests) = serve(vec![(500, b""), (500, b""), (500, b""), (500, b"")]);
        let error = downloader().fetch_text(&url).unwrap_err();
        assert_eq!(error, DownloadError::Status { url, status: 500 });
        assert_eq!(requests.lock().unwrap().len(), 4);
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
