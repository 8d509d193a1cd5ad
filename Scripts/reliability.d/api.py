"""A small JSON-over-HTTP client for the reliability drills (standard library only)."""
import http.client
import json
import subprocess


class API:
    def __init__(self, port, token=None, timeout=30):
        self.port = port
        self.token = token
        self.timeout = timeout

    def call(self, method, path, body=None, token=None):
        """Returns (status, parsed JSON body or None). A refused or dropped connection is
        reported as status 0, so drills can count it instead of crashing."""
        headers = {"Content-Type": "application/json"}
        bearer = token or self.token
        if bearer:
            headers["Authorization"] = "Bearer " + bearer
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = connection.getresponse()
            raw = response.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return response.status, parsed
        except (ConnectionError, OSError, http.client.HTTPException):
            return 0, None
        finally:
            connection.close()

    def must(self, method, path, body=None, token=None, expect=(200, 201, 202)):
        status, parsed = self.call(method, path, body, token)
        if status not in expect:
            raise RuntimeError(f"{method} {path} answered {status}: {parsed}")
        return parsed


class KeepAlive:
    """One keep-alive HTTP connection for drills that send many requests from one thread.
    It is reopened after the server closed it or after a failure."""

    def __init__(self, port, timeout=30):
        self.port = port
        self.timeout = timeout
        self.connection = None

    def request(self, method, path, token=None, body=None, headers=None):
        """Returns (status, response headers or None, raw body). A refused or dropped
        connection is status 0; the next request opens a new one."""
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = "Bearer " + token
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.connection.request(method, path, body=None if body is None else json.dumps(body), headers=all_headers)
            response = self.connection.getresponse()
            raw = response.read()
            if response.will_close:
                self.close()
            return response.status, response.headers, raw
        except (ConnectionError, OSError, http.client.HTTPException):
            self.close()
            return 0, None, b""

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def psql_runner(database_url):
    """psql(sql): one statement through psql on database_url, its unaligned output stripped
    (what the drills read the database with)."""
    def psql(sql):
        return subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", database_url, "-c", sql],
                              check=True, capture_output=True, text=True).stdout.strip()
    return psql
