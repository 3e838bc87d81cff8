"""A private s3rver (a real S3-compatible server from npm, installed into
.tools/node by scripts/install_node_tools.sh) and Debian's AWS CLI v2
(/usr/bin/aws; a pip v1 may come first on PATH) to check what landed in it.

s3rver accepts any signature; the signer is tested against AWS's published
examples in storage/s3/sigv4_test.cc."""

import os
import socket
import subprocess
import tempfile

import harness

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
S3RVER = os.path.join(ROOT, ".tools", "node", "node_modules", ".bin", "s3rver")
AWS = "/usr/bin/aws"
ACCESS_KEY = "S3RVER"  # s3rver's built-in account
SECRET_KEY = "S3RVER"


def require_tools():
    if not os.access(S3RVER, os.X_OK):
        raise harness.ToolMissing(f"{S3RVER} is missing: run scripts/install_deps.sh --test")
    if not os.access(AWS, os.X_OK):
        raise harness.ToolMissing(f"{AWS} is missing: run scripts/install_deps.sh --test (awscli)")


def _answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class S3rver:
    def __init__(self, ctx, port=None):
        require_tools()
        self.ctx = ctx
        self.port = port or harness.free_port()
        self.dir = tempfile.mkdtemp(prefix="s3rver-", dir=ctx.workdir)
        self.proc = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        log_path = os.path.join(self.ctx.workdir, f"s3rver-{self.port}.log")
        env = dict(os.environ)
        # s3rver 3.7.1 encrypts continuation tokens with DES, which OpenSSL 3
        # keeps in its legacy provider.
        env["NODE_OPTIONS"] = ("--openssl-legacy-provider " + env.get("NODE_OPTIONS", "")).strip()
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [S3RVER, "-d", self.dir, "-a", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env,
                preexec_fn=harness._set_parent_death_signal)
        self.ctx.processes.append(self.proc)

        def up():
            if self.proc.poll() is not None:
                raise harness.CheckFailed(f"s3rver exited with {self.proc.returncode}; see {log_path}")
            return _answers(self.port)
        harness.wait_until(up, 30, f"s3rver answers on port {self.port}")
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def aws(self, *args, check_rc=True):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                   AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
        result = subprocess.run([AWS, "--endpoint-url", self.endpoint, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, timeout=60)
        if check_rc and result.returncode != 0:
            raise harness.CheckFailed(f"aws {' '.join(args)}: exit {result.returncode}: "
                                      f"{result.stderr.decode(errors='replace')[-1000:]}")
        return result.stdout.decode(errors="replace")

    def make_bucket(self, bucket):
        self.aws("s3", "mb", f"s3://{bucket}")

    def list(self, bucket, prefix=""):
        """{key: size} of every object under prefix, as `aws s3 ls` reports it."""
        out = self.aws("s3", "ls", f"s3://{bucket}/{prefix}", "--recursive")
        objects = {}
        for line in out.splitlines():
            parts = line.split(None, 3)
            if len(parts) == 4:
                objects[parts[3]] = int(parts[2])
        return objects
