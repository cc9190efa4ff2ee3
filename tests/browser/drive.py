"""Drive Debian's chromium (headless, through chromium-driver and Selenium) over the repository browser.

  python tests/browser/drive.py SETTINGS.json

SETTINGS: {"domain", "address" (the registry server's), "ca" (its CA file),
"passwords": {"firstuser": FILE, "admin": FILE}, "screenshots": DIR,
"expect": {...}} (see molecule/browser/verify.yml). The browser resolves the
registry's name to ADDRESS and trusts exactly the server key that the CA
verified here (its SPKI hash). Prints one JSON object: every check with what
it saw, the pull line of the multi-platform tag, and the screenshots; exits
1 when a check failed.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import socket
import ssl
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 30


def spki_hash(domain: str, address: str, ca: str) -> str:
    """The server key's SPKI SHA-256 (base64), from a TLS handshake this CA verifies for this name."""
    context = ssl.create_default_context(cafile=ca)
    with socket.create_connection((address, 443), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=domain) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der
    public = x509.load_der_x509_certificate(der).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(public).digest()).decode()


def fetch(settings: Dict[str, Any], path: str, authorization: str | None = None) -> tuple[int, Dict[str, str], bytes]:
    """A GET straight to the server (not through the browser): headers and bodies as any client sees them."""
    context = ssl.create_default_context(cafile=settings["ca"])
    connection = http.client.HTTPSConnection(settings["domain"], 443, timeout=30, context=context)
    connection.sock = context.wrap_socket(socket.create_connection((settings["address"], 443), timeout=30),
                                          server_hostname=settings["domain"])
    try:
        connection.request("GET", path, headers={"Authorization": authorization} if authorization else {})
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


class Session:
    def __init__(self, settings: Dict[str, Any]) -> None:
        self.settings = settings
        self.base = "https://%s/browse/" % settings["domain"]
        self.profile = tempfile.mkdtemp(prefix="sovereign-browser-")
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,860",
                         "--user-data-dir=%s" % self.profile,
                         "--host-resolver-rules=MAP %s %s" % (settings["domain"], settings["address"]),
                         "--ignore-certificate-errors-spki-list=%s" % spki_hash(settings["domain"], settings["address"],
                                                                                settings["ca"])):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
        self.console: List[str] = []

    def wait(self, condition: Callable[[Any], Any]) -> Any:
        return WebDriverWait(self.driver, WAIT).until(condition)

    def text(self, element_id: str) -> str:
        return str(self.driver.find_element(By.ID, element_id).text)

    def open(self, fragment: str = "") -> None:
        self.driver.get(self.base + fragment)

    def names(self) -> List[str]:
        self.wait(lambda d: " repositories you may pull" in self.text("count"))
        return [str(a.text) for a in self.driver.find_elements(By.CSS_SELECTOR, "#repositories a")]

    def login(self, user: str) -> None:
        with open(self.settings["passwords"][user], encoding="utf-8") as handle:
            password = handle.read().strip()
        for field, value in (("username", user), ("password", password)):
            self.driver.find_element(By.ID, field).clear()
            self.driver.find_element(By.ID, field).send_keys(value)
        self.driver.find_element(By.ID, "login-button").click()
        self.wait(lambda d: self.text("viewer").startswith(user))

    def logout(self) -> None:
        self.driver.find_element(By.ID, "logout").click()
        self.wait(lambda d: self.driver.find_element(By.ID, "login").is_displayed())

    def repository(self, name: str) -> Dict[str, Dict[str, str]]:
        self.driver.find_element(By.LINK_TEXT, name).click()
        self.wait(lambda d: self.text("repository-name") == name and "tag(s)" in self.text("status"))
        rows = {}
        for row in self.driver.find_elements(By.CSS_SELECTOR, "#tags tbody tr"):
            cells = [str(cell.text) for cell in row.find_elements(By.TAG_NAME, "td")]
            rows[str(row.get_attribute("data-tag"))] = {
                "digest": cells[1], "size": cells[2], "created": cells[3], "platforms": cells[4],
                "retention": cells[5], "pushed": cells[6], "pull": str(row.find_element(By.CSS_SELECTOR, ".pull code").text)}
        return rows

    def screenshot(self, name: str) -> str:
        path = os.path.join(self.settings["screenshots"], name)
        self.driver.save_screenshot(path)
        return path

    def logs(self) -> List[str]:
        """The console since the last call: CSP violations are reported there."""
        log: List[Dict[str, Any]] = self.driver.get_log("browser")  # type: ignore[no-untyped-call]
        entries = [str(entry.get("message", "")) for entry in log]
        self.console += entries
        return entries


def run(settings: Dict[str, Any]) -> Dict[str, Any]:
    expect = settings["expect"]
    checks: List[Dict[str, Any]] = []

    def check(what: str, ok: Any, saw: Any) -> None:
        checks.append({"check": what, "ok": bool(ok), "saw": saw})

    # The headers, as any client gets them.
    status, headers, _body = fetch(settings, "/browse/")
    csp = headers.get("Content-Security-Policy", "")
    check("the page answers 200 with a CSP of its own (script-src 'self', nothing inline, form-action 'none')",
          status == 200 and "script-src 'self'" in csp and "unsafe-inline" not in csp and "form-action 'none'" in csp,
          {"status": status, "csp": csp})
    status, headers, _body = fetch(settings, "/browse/api/repositories")
    check("the API keeps the registry's policy (default-src 'none')",
          status == 200 and headers.get("Content-Security-Policy", "").startswith("default-src 'none'"),
          {"status": status, "csp": headers.get("Content-Security-Policy")})
    status, _headers, _body = fetch(settings, "/browse/api/repositories", basic("firstuser", "not-the-password"))
    check("a wrong password gets 401", status == 401, status)
    hidden = fetch(settings, "/browse/api/repository?name=" + expect["hidden"])
    missing = fetch(settings, "/browse/api/repository?name=" + expect["hidden"] + "-nonexistent")
    check("a hidden repository answers exactly as one that does not exist", hidden[0] == 404 and
          (hidden[0], hidden[2]) == (missing[0], missing[2]), {"hidden": [hidden[0], hidden[2].decode()],
                                                               "nonexistent": [missing[0], missing[2].decode()]})

    session = Session(settings)
    shots: Dict[str, str] = {}
    result: Dict[str, Any] = {"checks": checks, "screenshots": shots}
    try:
        driver = session.driver
        # Anonymous.
        session.open()
        anonymous = session.names()
        shots["anonymous"] = session.screenshot("browser-anonymous.png")
        check("anonymous: public repositories only, and some", anonymous and
              all(name.startswith("publicrepos/") for name in anonymous) and expect["public"] in anonymous, anonymous)
        check("anonymous: the page's HTML never names the hidden repository",
              expect["hidden"] not in driver.page_source, expect["hidden"])

        # firstuser: own, group's, public; not another person's.
        session.login("firstuser")
        own = session.names()
        shots["firstuser"] = session.screenshot("browser-firstuser.png")
        check("firstuser: their own, their group's and the public repositories, not another person's",
              all(name in own for name in expect["firstuser_sees"]) and
              not any(name in own for name in expect["firstuser_not"]), own)
        rows = session.repository(expect["index"]["repository"])
        shots["index"] = session.screenshot("browser-index.png")
        row = rows.get(expect["index"]["tag"], {})
        check("firstuser: the multi-platform index is one entry with its platforms, a size and a creation time",
              row.get("platforms") == ", ".join(expect["index"]["platforms"]) and row.get("size", "").endswith("B")
              and row.get("created", "unknown") != "unknown", row)
        result["pull"] = row.get("pull", "")
        check("the pull line names the tag on the registry",
              result["pull"] == "docker pull %s/%s:%s" % (settings["domain"], expect["index"]["repository"],
                                                          expect["index"]["tag"]), result["pull"])
        # Not only hidden by the page's style: the service must not send the pushes to a non-admin at all.
        with open(settings["passwords"]["firstuser"], encoding="utf-8") as handle:
            firstuser_basic = basic("firstuser", handle.read().strip())
        status, _headers, body = fetch(settings, "/browse/api/repository?name=" + expect["index"]["repository"], firstuser_basic)
        sent = [tag["pushed"] for tag in json.loads(body).get("tags", {}).values()] if status == 200 else [status]
        check("firstuser: who pushed is for admins only (none sent, the column hidden)", sent and
              all(pushed is None for pushed in sent) and not driver.find_element(
                  By.CSS_SELECTOR, "#tags tbody tr td.pushed").is_displayed(), sent)
        driver.back()
        session.names()
        rows = session.repository(expect["retention"]["repository"])
        shots["retention"] = session.screenshot("browser-retention.png")
        doomed = sorted(tag for tag, row in rows.items() if row["retention"].startswith("deleted"))
        check("the tags retention would delete next are marked", doomed == expect["retention"]["deleted"],
              {tag: row["retention"] for tag, row in rows.items()})
        session.logout()

        # admin: everything, and who pushed.
        session.login("admin")
        everything = session.names()
        check("admin: every repository, the hidden one too", expect["hidden"] in everything and
              all(name in everything for name in expect["firstuser_not"]), len(everything))
        rows = session.repository(expect["index"]["repository"])
        shots["admin"] = session.screenshot("browser-admin.png")
        pushed = rows.get(expect["index"]["tag"], {}).get("pushed", "")
        check("admin: who pushed the tag, and when", pushed.startswith(expect["index"]["pusher"] + ", "), pushed)

        # No CSP violation in everything above; then one made on purpose must show (the check can fail).
        violations = [line for line in session.logs() if "Content Security Policy" in line]
        check("no CSP violation in the console", not violations, violations)
        driver.execute_script("var s = document.createElement('script'); s.textContent = 'window.inlineRan = 1';"
                              "document.body.appendChild(s);")
        time.sleep(0.5)
        ran = driver.execute_script("return window.inlineRan === 1")
        caught = [line for line in session.logs() if "Content Security Policy" in line]
        check("control: an inline script is refused, and the console shows it", not ran and bool(caught), caught[:1])
    except Exception as error:  # pylint: disable=broad-except
        # Where it stopped, and what the page showed then.
        shots["failure"] = session.screenshot("browser-failure.png")
        check("the scenario ran to its end", False, "%s: %s (status line: %r)" % (
            type(error).__name__, str(error).strip() or "no message", session.text("status")))
    finally:
        session.driver.quit()
    result["ok"] = all(entry["ok"] for entry in checks)
    return result


def main(argv: List[str]) -> int:
    with open(argv[0], encoding="utf-8") as handle:
        settings = json.load(handle)
    os.makedirs(settings["screenshots"], exist_ok=True)
    result = run(settings)
    print(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
