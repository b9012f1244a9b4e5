"""Which URLs AdStudio may call: one check for webhooks, product feeds and feed photos (P13).

A user must not be able to make AdStudio call services inside its own network (databases,
the cloud metadata service, the admin site on loopback). ``outbound_url_check`` refuses URLs
that are not plain http(s), carry credentials, backslashes, control characters or odd
spellings of numeric addresses, and hosts any of whose addresses is loopback, private,
link-local, multicast, reserved or unspecified (IPv4-mapped, 6to4, Teredo and NAT64 forms
unwrapped). ``outbound_connection`` connects to the address the check resolved (no second
lookup that DNS rebinding could answer differently). ``allow_private`` (tests, local
development; each caller has its own setting) skips only the address classes, never the syntax.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

# host, port -> the addresses a connection could go to
Resolver = Callable[[str, int], list[str]]

MAX_URL_LENGTH = 2000
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class TargetRefused(ValueError):
    """Why a URL is refused, in words for the person who entered it."""


class TargetUnresolved(TargetRefused):
    """The host has no address now: refused when saving, a retryable failure when sending."""


def system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to ``address``; send ``host`` as the Host and TLS name."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    address: str


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    found = []
    if ip.ipv4_mapped:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour:
        found.append(ip.sixtofour)
    if ip.teredo:
        found.extend(ip.teredo)
    if ip in _NAT64 or ip in _NAT64_LOCAL:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def address_is_internal(address: str) -> bool:
    """Whether ``address`` (an IP address as text) is one AdStudio must not call."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates = [ip, *(_embedded_ipv4(ip) if ip.version == 6 else [])]
    return any(
        not c.is_global or c.is_private or c.is_loopback or c.is_link_local or c.is_multicast
        or c.is_reserved or c.is_unspecified
        for c in candidates
    ) or (ip.version == 6 and ip in _NAT64_LOCAL)


def _literal(host: str) -> str | None:
    """``host`` as a canonical IP address if it is one; TargetRefused for other numeric
    spellings (2130706433, 0x7f.1, 0177.0.0.1, 127.1) that resolvers read as addresses."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        socket.inet_aton(host)
    except OSError:
        pass
    else:
        raise TargetRefused("Write a numeric address as four decimal numbers (like "
                            "203.0.113.7), or use the host's name.")
    if re.fullmatch(r"[0-9a-fA-FxX.]+", host) and re.fullmatch(r"(0[xX][0-9a-fA-F]*|[0-9]+)",
                                                              host.rsplit(".", 1)[-1]):
        raise TargetRefused("The host looks like a number but is not a valid address.")
    return None


def outbound_url_check(url: str, *, allow_private: bool, allow_private_setting: str,
                       purpose: str = "send", resolver: Resolver | None = None,
                       credentials_hint: str = "") -> Target | None:
    """The target of ``url``, or TargetRefused saying why AdStudio will not call it.

    ``purpose`` "send" resolves the host (the connection goes to ``Target.address``); "save"
    checks a URL before it is stored and returns None. ``allow_private_setting`` names the
    setting an operator turns on to allow private addresses (shown in the refusal).
    ``resolver`` replaces DNS (tests)."""
    if purpose not in ("send", "save"):
        raise ValueError(f"unknown purpose {purpose!r}")
    if not isinstance(url, str) or not url:
        raise TargetRefused("Enter the URL.")
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"Use a URL of at most {MAX_URL_LENGTH} characters.")
    if _FORBIDDEN_CHARS.search(url):
        raise TargetRefused("The URL contains spaces, control characters or backslashes.")
    if not url.isascii():
        raise TargetRefused("Write the URL in ASCII (percent-encode other characters; use "
                            "the punycode form of an international host name).")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"This is not a valid URL ({exc}).") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused("Use an http:// or https:// URL.")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise TargetRefused("Leave user names and passwords out of the URL"
                            + (f"; {credentials_hint}" if credentials_hint else "") + ".")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused("The URL has no host.")
    if port == 0:
        raise TargetRefused("Port 0 is not a port a server can listen on.")
    port = port or (443 if scheme == "https" else 80)
    literal = _literal(host)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if purpose == "save" and allow_private:
        return None  # nothing to classify; sending resolves (and may retry) later
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = (resolver or system_resolver)(host, port)
        except (OSError, UnicodeError) as exc:
            raise TargetUnresolved(f"AdStudio could not find the host {host} ({exc}). Check "
                                   "the spelling, or try again once its DNS is set up.") from exc
        if not addresses:
            raise TargetUnresolved(f"AdStudio could not find the host {host}.")
    if not allow_private:
        for address in addresses:
            if address_is_internal(address):
                raise TargetRefused(
                    f"The address {address} of {host} is inside AdStudio's own network "
                    "(loopback, private, link-local or reserved). Use a public address, or "
                    f"set {allow_private_setting}=1 for local development.")
    if purpose == "save":
        return None
    return Target(scheme=scheme, host=literal or host, port=port, path=path,
                  address=addresses[0].split("%", 1)[0])


def outbound_connection(target: Target, *, timeout: float) -> http.client.HTTPConnection:
    """A connection to ``target.address`` only (the checked one), with ``target.host`` as the
    Host header and, for https, as the name the certificate must carry. It follows no
    redirects: a caller that does must check each new URL again."""
    if target.scheme == "https":
        conn = http.client.HTTPSConnection(target.host, target.port, timeout=timeout,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def pinned(address, timeout, source_address=None):  # http.client passes all three
        return socket.create_connection((target.address, address[1]), timeout, source_address)

    conn._create_connection = pinned
    return conn
