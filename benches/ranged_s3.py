#!/usr/bin/env python3
"""A read-only S3 endpoint over one directory, for the objects bench.

Serves what leaksweep's object path asks of S3: ListObjectsV2 of a bucket,
HEAD of an object, and GET of byte ranges, the bytes sent from the file with
sendfile(2). moto and s3s-fs each spent about one of this machine's two
cores serving the bench corpus, which left the scanner one; this server
costs a small fraction of that, so the bench measures leaksweep rather than
the server. It checks no signature and is for 127.0.0.1 only.

    python3 ranged_s3.py --port PORT --bucket NAME DIR
"""

import argparse
import email.utils
import os
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

MAX_KEYS = 1000


def objects(root):
    """Every file under root as (key, path), sorted by key."""
    found = []
    for top, _, names in os.walk(root):
        for name in names:
            path = os.path.join(top, name)
            found.append((os.path.relpath(path, root).replace(os.sep, "/"), path))
    return sorted(found)


def etag(st):
    return '"%x-%x"' % (st.st_size, st.st_mtime_ns)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def target(self):
        """(key or None, query) of the request, or None for another bucket."""
        url = urlsplit(self.path)
        parts = unquote(url.path).lstrip("/").split("/", 1)
        if parts[0] != self.server.bucket:
            return None
        key = parts[1] if len(parts) > 1 and parts[1] else None
        return key, parse_qs(url.query)

    def error(self, status, code):
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code></Error>" % code).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        target = self.target()
        if target is None:
            return self.error(404, "NoSuchBucket")
        key, query = target
        if key is None:
            return self.list(query)
        path = os.path.join(self.server.root, *key.split("/"))
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return self.error(404, "NoSuchKey")
        try:
            self.send_object(fd, os.fstat(fd))
        finally:
            os.close(fd)

    def send_object(self, fd, st):
        size, start, end = st.st_size, 0, st.st_size
        wanted = self.headers.get("Range", "")
        status = 200
        if wanted.startswith("bytes="):
            first, _, last = wanted[6:].partition("-")
            start = int(first)
            end = min(int(last) + 1, size) if last else size
            if start >= size:
                return self.error(416, "InvalidRange")
            status = 206
        self.send_response(status)
        self.send_header("Content-Length", str(end - start))
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("ETag", etag(st))
        self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, size))
        self.end_headers()
        if self.command == "HEAD":
            return
        self.wfile.flush()
        sock = self.connection.fileno()
        while start < end:
            sent = os.sendfile(sock, fd, start, end - start)
            if sent == 0:
                break
            start += sent

    def list(self, query):
        prefix = query.get("prefix", [""])[0]
        after = query.get("continuation-token", query.get("start-after", [""]))[0]
        keys = [(k, p) for k, p in objects(self.server.root) if k.startswith(prefix) and k > after]
        page, more = keys[:MAX_KEYS], len(keys) > MAX_KEYS
        items = []
        for k, p in page:
            st = os.stat(p)
            items.append(
                "<Contents><Key>%s</Key><LastModified>%s</LastModified><ETag>%s</ETag>"
                "<Size>%d</Size><StorageClass>STANDARD</StorageClass></Contents>"
                % (escape(k), time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(st.st_mtime)),
                   escape(etag(st)), st.st_size)
            )
        token = "<NextContinuationToken>%s</NextContinuationToken>" % escape(page[-1][0]) if more else ""
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            "<Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys>"
            "<IsTruncated>%s</IsTruncated>%s%s</ListBucketResult>"
            % (escape(self.server.bucket), escape(prefix), len(page), MAX_KEYS,
               "true" if more else "false", token, "".join(items))
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--port", type=int, required=True)
    args.add_argument("--bucket", required=True)
    args.add_argument("root")
    opts = args.parse_args()
    socketserver.TCPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    server.daemon_threads = True
    server.root, server.bucket = opts.root, opts.bucket
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
