//! Object storage input: `s3://`, `gs://` and `az://` URLs (and the other
//! spellings `object_store` knows: `s3a://`, `gcs://`, `abfs://` …) name an
//! object or a prefix, listed whole. Credentials come from each service's
//! standard environment (`AWS_*` with `AWS_ENDPOINT_URL`, `GOOGLE_*`,
//! `AZURE_*`). Each object is read as a stream of ranged GETs, several in
//! flight, and scanned as a file would be; its findings' path is its URL.

use std::io::{self, Read};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::runtime::{Handle, Runtime};
use tokio::sync::mpsc;
use url::Url;

use crate::state::ObjectState;

/// Bytes asked for by one GET.
const RANGE: u64 = 8 << 20;
/// GETs of one object in flight at once.
const IN_FLIGHT: usize = 4;

/// Whether `input` names an object store URL rather than a local path.
pub fn is_url(input: &Path) -> bool {
    let s = input.to_string_lossy();
    s.split_once("://")
        .is_some_and(|(scheme, _)| scheme_kind(scheme).is_some())
}

#[derive(Clone, Copy)]
enum Service {
    S3,
    Gcs,
    Azure,
}

fn scheme_kind(scheme: &str) -> Option<Service> {
    match scheme {
        "s3" | "s3a" => Some(Service::S3),
        "gs" | "gcs" => Some(Service::Gcs),
        "az" | "adl" | "azure" | "abfs" | "abfss" => Some(Service::Azure),
        _ => None,
    }
}

/// One object to scan.
#[derive(Clone, Debug)]
pub struct Object {
    /// `scheme://bucket/key`, as findings and messages name it.
    pub url: String,
    pub size: u64,
    pub etag: Option<String>,
    /// Last-modified time, as the store gives it.
    pub modified: String,
    store: Arc<dyn ObjectStore>,
    key: Key,
    runtime: Handle,
}

impl PartialEq for Object {
    fn eq(&self, other: &Object) -> bool {
        self.url == other.url
    }
}

impl Eq for Object {}

/// The runtime object reads run on, for the whole scan.
pub struct Objects {
    runtime: Runtime,
}

impl Objects {
    pub fn new() -> io::Result<Objects> {
        // TLS uses ring (see Cargo.toml); an error means one is set already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("leaksweep-objects")
            .enable_all()
            .build()?;
        Ok(Objects { runtime })
    }

    /// The objects `url` names: the one object of that key, else every
    /// object under it as a prefix, in key order. `Err` says why the
    /// listing failed.
    pub fn list(&self, url: &str) -> Result<Vec<Object>, String> {
        let parsed = Url::parse(url).map_err(|e| format!("not an object URL: {e}"))?;
        let store = store(&parsed)?;
        let key = Key::from_url_path(parsed.path()).map_err(|e| e.to_string())?;
        let base = format!(
            "{}://{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or_default()
        );
        let object = |meta: object_store::ObjectMeta| Object {
            url: format!("{base}/{}", meta.location),
            size: meta.size,
            etag: meta.e_tag,
            modified: meta.last_modified.to_rfc3339(),
            store: Arc::clone(&store),
            key: meta.location,
            runtime: self.runtime.handle().clone(),
        };
        self.runtime.block_on(async {
            if !key.as_ref().is_empty() && !url.ends_with('/') {
                if let Ok(meta) = store.head(&key).await {
                    return Ok(vec![object(meta)]);
                }
            }
            let prefix = (!key.as_ref().is_empty()).then_some(&key);
            let mut listed: Vec<_> = store
                .list(prefix)
                .map_ok(object)
                .try_collect()
                .await
                .map_err(|e| cause(&e))?;
            listed.sort_by(|a, b| a.key.cmp(&b.key));
            if listed.is_empty() {
                return Err("no object has this key or prefix".into());
            }
            Ok(listed)
        })
    }
}

impl Object {
    /// What `--state` remembers of it.
    pub fn state(&self) -> ObjectState {
        ObjectState {
            url: self.url.clone(),
            etag: self.etag.clone(),
            size: self.size,
            modified: self.modified.clone(),
        }
    }

    /// The object's bytes as a stream: ranged GETs, [`IN_FLIGHT`] at a
    /// time, handed over in order.
    pub fn open(&self) -> ObjectReader {
        let (tx, rx) = mpsc::channel(IN_FLIGHT);
        let ranges: Vec<Range<u64>> = (0..self.size.div_ceil(RANGE))
            .map(|i| i * RANGE..((i + 1) * RANGE).min(self.size))
            .collect();
        let (store, key) = (Arc::clone(&self.store), self.key.clone());
        self.runtime.spawn(async move {
            let mut parts = futures::stream::iter(ranges)
                .map(|r| {
                    let (store, key) = (Arc::clone(&store), key.clone());
                    async move { store.get_range(&key, r).await }
                })
                .buffered(IN_FLIGHT);
            while let Some(part) = parts.next().await {
                let failed = part.is_err();
                let part = part.map_err(|e| io::Error::other(cause(&e)));
                if tx.send(part).await.is_err() || failed {
                    break;
                }
            }
        });
        ObjectReader {
            rx,
            part: bytes::Bytes::new(),
        }
    }
}

/// An object's bytes, as [`Object::open`] fetches them.
pub struct ObjectReader {
    rx: mpsc::Receiver<io::Result<bytes::Bytes>>,
    part: bytes::Bytes,
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.part.is_empty() {
            match self.rx.blocking_recv() {
                Some(part) => self.part = part?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.part.len());
        buf[..n].copy_from_slice(&self.part.split_to(n));
        Ok(n)
    }
}

/// The store a URL's bucket (or container) is in, configured from the
/// service's standard environment.
fn store(url: &Url) -> Result<Arc<dyn ObjectStore>, String> {
    let service = scheme_kind(url.scheme()).ok_or("not an object store URL")?;
    let built: object_store::Result<Arc<dyn ObjectStore>> = match service {
        Service::S3 => {
            let mut b = AmazonS3Builder::from_env().with_url(url.as_str());
            // A local endpoint (MinIO, a test server) speaks plain HTTP.
            let endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
                .iter()
                .find_map(|k| std::env::var(k).ok());
            if endpoint.is_some_and(|e| e.starts_with("http://")) {
                b = b.with_allow_http(true);
            }
            if std::env::var_os("AWS_REGION").is_none()
                && std::env::var_os("AWS_DEFAULT_REGION").is_none()
            {
                b = b.with_region("us-east-1");
            }
            b.build().map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        }
        Service::Gcs => GoogleCloudStorageBuilder::from_env()
            .with_url(url.as_str())
            .build()
            .map(|s| Arc::new(s) as Arc<dyn ObjectStore>),
        Service::Azure => MicrosoftAzureBuilder::from_env()
            .with_url(url.as_str())
            .build()
            .map(|s| Arc::new(s) as Arc<dyn ObjectStore>),
    };
    built.map_err(|e| cause(&e))
}

/// An object store error's message, on one line.
fn cause(e: &object_store::Error) -> String {
    e.to_string().replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        for url in [
            "s3://b/k",
            "s3a://b/",
            "gs://b/x.log",
            "az://c/p",
            "abfss://c@a/p",
        ] {
            assert!(is_url(Path::new(url)), "{url}");
        }
        for path in ["logs/s3://x", "file.log", "-", "http://host/x", "/var/log"] {
            assert!(!is_url(Path::new(path)), "{path}");
        }
    }
}
