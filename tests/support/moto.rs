//! A local S3 server for the object storage test and bench: moto
//! (`pip install 'moto[server]'`) on a free port of 127.0.0.1, stopped when
//! dropped, with boto3 to fill its buckets.

use std::io;
use std::path::Path;
use std::process::Command;

use crate::emulators::{python, Server};

pub struct Moto {
    server: Server,
}

impl Moto {
    /// Whether python3 has moto's server and boto3.
    pub fn available() -> bool {
        Command::new("python3")
            .args(["-c", "import moto.server, boto3"])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    pub fn start() -> io::Result<Moto> {
        let server = Server::start(Path::new("python3"), |port| {
            [
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ]
            .map(String::from)
            .to_vec()
        })?;
        Ok(Moto { server })
    }

    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    /// Points `cmd` (a leaksweep run) at this server.
    pub fn configure(&self, cmd: &mut Command) {
        cmd.env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1");
    }

    /// Creates `bucket` and uploads every file under `dir` to it, keyed by
    /// its path below `dir`.
    pub fn upload(&self, dir: &Path, bucket: &str) -> io::Result<()> {
        self.python(
            "s3.create_bucket(Bucket=sys.argv[3])\n\
             for root, _, names in os.walk(sys.argv[2]):\n\
             \x20   for n in names:\n\
             \x20       p = os.path.join(root, n)\n\
             \x20       s3.upload_file(p, sys.argv[3], os.path.relpath(p, sys.argv[2]))\n",
            &[&dir.to_string_lossy(), bucket],
        )
    }

    /// Puts `text` at `key` of `bucket`.
    pub fn put(&self, bucket: &str, key: &str, text: &str) -> io::Result<()> {
        self.python(
            "s3.put_object(Bucket=sys.argv[2], Key=sys.argv[3], Body=sys.argv[4].encode())\n",
            &[bucket, key, text],
        )
    }

    /// Runs `body` with `s3`, a boto3 client of this server; `args` are
    /// `sys.argv[2..]`.
    fn python(&self, body: &str, args: &[&str]) -> io::Result<()> {
        let script = format!(
            "import boto3, os, sys\n\
             s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
             \x20   aws_access_key_id='testing', aws_secret_access_key='testing')\n{body}"
        );
        let endpoint = self.endpoint();
        let argv: Vec<&str> = std::iter::once(endpoint.as_str())
            .chain(args.iter().copied())
            .collect();
        python("boto3", &script, &argv)
    }
}
