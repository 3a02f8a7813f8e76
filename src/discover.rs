//! Discovery: from the paths the user named to the list of inputs to scan.
//! Directories are walked recursively; symlinks inside them are not
//! followed unless asked (how many were not is said, once per directory
//! named: Kubernetes' `/var/log/containers` is all symlinks); FIFOs, sockets and devices met while walking are
//! skipped with a note. Nothing is opened here: deciding *whether* to scan
//! is kept apart from *how* to read, so each skip and error names its input.

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::messages::{io_cause, Messages};

/// One thing to scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    /// A regular file, or a FIFO the user named explicitly (`<(zcat …)`).
    File(PathBuf),
    /// An object in object storage (see `objects`).
    Object(crate::objects::Object),
}

/// Expands `paths` into inputs, reporting unreadable paths and skips.
/// Paths for which `skip` is true (the config's globs) are left out
/// quietly, and a skipped directory is not walked.
pub fn discover(
    paths: &[PathBuf],
    follow_links: bool,
    skip: &dyn Fn(&Path) -> bool,
    msgs: &Messages,
) -> Vec<Input> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        if skip(path) {
            continue;
        }
        match fs::metadata(path) {
            Err(e) => msgs.error(&display(path), io_cause(&e)),
            Ok(m) if m.is_dir() => walk(path, follow_links, skip, msgs, &mut inputs),
            Ok(m) if m.is_file() || m.file_type().is_fifo() => {
                inputs.push(Input::File(path.clone()))
            }
            Ok(m) => msgs.skip(&display(path), special_kind(&m.file_type())),
        }
    }
    inputs
}

fn walk(
    root: &Path,
    follow_links: bool,
    skip: &dyn Fn(&Path) -> bool,
    msgs: &Messages,
    inputs: &mut Vec<Input>,
) {
    let walker = WalkDir::new(root)
        .follow_links(follow_links)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !skip(e.path()));
    let mut links = 0u64;
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().unwrap_or(root);
                let cause = if e.loop_ancestor().is_some() {
                    "symlink loop, not followed".to_string()
                } else {
                    e.io_error().map(io_cause).unwrap_or_else(|| e.to_string())
                };
                msgs.error(&display(path), cause);
                continue;
            }
        };
        let ft = entry.file_type();
        if ft.is_file() {
            inputs.push(Input::File(entry.into_path()));
        } else if ft.is_symlink() {
            // Only followed with --follow (walkdir then reports their
            // targets instead).
            links += 1;
        } else if ft.is_dir() {
        } else {
            msgs.skip(&display(entry.path()), special_kind(&ft));
        }
    }
    if links > 0 {
        msgs.note(
            &display(root),
            format_args!(
                "{links} symbolic link{} inside not followed (-L follows them)",
                if links == 1 { "" } else { "s" }
            ),
        );
    }
}

fn special_kind(ft: &fs::FileType) -> &'static str {
    if ft.is_fifo() {
        "FIFO met while walking a directory"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "device"
    } else {
        "not a regular file"
    }
}

/// Share `index` of `count` of the inputs (`--shard I/N`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Whether this share holds `path`: by an FNV-1a hash of its bytes, so
    /// that every machine splits the same paths the same way.
    pub fn owns(&self, path: &Path) -> bool {
        use std::os::unix::ffi::OsStrExt;
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in path.as_os_str().as_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h % self.count == self.index
    }
}

/// A path as shown to the user.
pub fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_dirs_sorted_and_reports_missing_paths() {
        let d = tempfile::tempdir().expect("tempdir");
        fs::create_dir(d.path().join("sub")).expect("mkdir");
        fs::write(d.path().join("sub/b.log"), "b").expect("write");
        fs::write(d.path().join("a.log"), "a").expect("write");
        let msgs = Messages::new(true);
        let got = discover(
            &[d.path().to_path_buf(), d.path().join("missing")],
            false,
            &|_| false,
            &msgs,
        );
        assert_eq!(
            got,
            vec![
                Input::File(d.path().join("a.log")),
                Input::File(d.path().join("sub/b.log"))
            ]
        );
        assert_eq!(msgs.errors(), 1);
    }

    #[test]
    fn symlinks_in_dirs_are_not_followed_by_default() {
        let d = tempfile::tempdir().expect("tempdir");
        fs::write(d.path().join("a.log"), "a").expect("write");
        std::os::unix::fs::symlink(d.path().join("a.log"), d.path().join("link.log"))
            .expect("symlink");
        let msgs = Messages::new(true);
        let none = |_: &Path| false;
        assert_eq!(
            discover(&[d.path().to_path_buf()], false, &none, &msgs).len(),
            1
        );
        assert_eq!(
            discover(&[d.path().to_path_buf()], true, &none, &msgs).len(),
            2
        );
    }

    #[test]
    fn skipped_paths_and_directories_are_left_out() {
        let d = tempfile::tempdir().expect("tempdir");
        fs::create_dir(d.path().join("vendor")).expect("mkdir");
        fs::write(d.path().join("vendor/x.log"), "x").expect("write");
        fs::write(d.path().join("a.log"), "a").expect("write");
        fs::write(d.path().join("b.log"), "b").expect("write");
        let msgs = Messages::new(true);
        let skip = |p: &Path| p.ends_with("vendor") || p.ends_with("b.log");
        let got = discover(&[d.path().to_path_buf()], false, &skip, &msgs);
        assert_eq!(got, vec![Input::File(d.path().join("a.log"))]);
    }
}
