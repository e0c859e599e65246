"""A real ACME CA for tests: Debian's `pebble`, with a tiny DNS responder that sends every name to 127.0.0.1.

Pebble validates HTTP-01 by connecting to the name it is asked to certify; the responder makes any test
domain resolve to loopback, where the server under test answers the challenge on its -httpport.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["PEBBLE", "Pebble", "loopback_dns", "pebble", "self_signed", "served_certificate"]

PEBBLE = shutil.which("pebble") or "/usr/bin/pebble"
_A, _CLASS_IN = 1, 1


def _dns_answer(query: bytes) -> bytes | None:
    """The response to one DNS query: A 127.0.0.1 for any name, an empty NOERROR answer for other types."""
    if len(query) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", query[:6])
    if qdcount != 1:
        return None
    end = 12
    while end < len(query) and query[end] != 0:
        end += query[end] + 1
    end += 1
    if end + 4 > len(query):
        return None
    qtype, _qclass = struct.unpack("!HH", query[end : end + 4])
    question = query[12 : end + 4]
    answers = b""
    if qtype == _A:  # a pointer to the question's name, A IN, TTL 60, 4 bytes: 127.0.0.1
        answers = struct.pack("!HHHIH", 0xC00C, _A, _CLASS_IN, 60, 4) + socket.inet_aton("127.0.0.1")
    response_flags = 0x8180 | (flags & 0x0100)  # a response, recursion available, RD copied
    header = struct.pack("!HHHHHH", ident, response_flags, 1, 1 if answers else 0, 0, 0)
    return header + question + answers


@contextlib.contextmanager
def loopback_dns() -> Iterator[int]:
    """A UDP DNS server on 127.0.0.1 (port yielded) that resolves every name to 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                query, peer = sock.recvfrom(512)
            except TimeoutError:
                continue
            answer = _dns_answer(query)
            if answer is not None:
                sock.sendto(answer, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        sock.close()


def self_signed(names: list[str], days: float, directory: Path, stem: str) -> tuple[Path, Path]:
    """A self-signed P-256 certificate for `names` valid for `days`; returns (cert, key) PEM paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in names if not n[0].isdigit()]
    alt_names += [x509.IPAddress(ipaddress.ip_address(n)) for n in names if n[0].isdigit()]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class Pebble:
    directory_url: str
    management_url: str
    tls_root: Path  # the certificate pebble's own HTTPS API presents (medama's -acmeca)
    process: subprocess.Popen[bytes]

    def issuing_root(self) -> str:
        """The PEM root that pebble's issued certificates chain to (generated fresh at each pebble start)."""
        response = httpx.get(
            f"{self.management_url}/roots/0", verify=ssl.create_default_context(cafile=self.tls_root), timeout=5
        )
        response.raise_for_status()
        return response.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def pebble(work: Path, http_port: int) -> Iterator[Pebble]:
    """Run pebble on loopback; it validates HTTP-01 challenges on `http_port` of whatever name it is given."""
    work.mkdir(parents=True, exist_ok=True)
    tls_cert, tls_key = self_signed(["localhost", "127.0.0.1"], 30, work, "pebble-tls")
    api_port, management_port = _free_port(), _free_port()
    config = {
        "pebble": {
            "listenAddress": f"127.0.0.1:{api_port}",
            "managementListenAddress": f"127.0.0.1:{management_port}",
            "certificate": str(tls_cert),
            "privateKey": str(tls_key),
            "httpPort": http_port,
            "tlsPort": _free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }
    config_path = work / "pebble.json"
    config_path.write_text(json.dumps(config))
    log = (work / "pebble.log").open("wb")
    env = {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0", "PEBBLE_AUTHZREUSE": "0", "PATH": "/usr/bin"}
    with loopback_dns() as dns_port:
        process = subprocess.Popen(
            [PEBBLE, "-config", str(config_path), "-dnsserver", f"127.0.0.1:{dns_port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        server = Pebble(f"https://127.0.0.1:{api_port}/dir", f"https://127.0.0.1:{management_port}", tls_cert, process)
        try:
            _wait_until_up(server, work)
            yield server
        finally:
            process.terminate()
            process.wait(10)
            log.close()


def _wait_until_up(server: Pebble, work: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"pebble exited\n{(work / 'pebble.log').read_text(errors='replace')}")
        with contextlib.suppress(httpx.HTTPError):
            if (
                httpx.get(
                    server.directory_url, verify=ssl.create_default_context(cafile=server.tls_root), timeout=1
                ).status_code
                == 200
            ):
                return
        time.sleep(0.1)
    raise AssertionError(f"pebble did not start\n{(work / 'pebble.log').read_text(errors='replace')}")


def served_certificate(port: int, server_name: str, roots_pem: str | None) -> x509.Certificate:
    """The leaf certificate presented on 127.0.0.1:`port` for SNI `server_name`.

    With `roots_pem` the chain and the name are verified against those roots (a failure raises);
    without it, whatever is presented is returned unverified.
    """
    if roots_pem is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cadata=roots_pem)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)
