"""The console in a real browser: Debian's chromium, driven through chromium-driver by Selenium.

Run by the Swift test `BrowserTests` (Tests/HeraldConsoleTests), which starts Herald, a Slack double and an
OpenID Connect provider double, raises an alert, and passes what the tour needs as one JSON argument:

    {"issue_url": the link the Slack message carries, "stakeholder_link": a one-time link for a stakeholder,
     "screenshots": a directory or null}

The tour signs in through the provider from a signed-out visit to the issue, checks what the issue page
shows, resolves the issue from the page, then signs in as a stakeholder with the one-time link and checks
that no action is offered and that a forged POST changes nothing. It prints one JSON line with what it saw
and exits non-zero at the first thing that is wrong.
"""

import json
import os
import sys
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait


def fail(message):
    print(json.dumps({"ok": False, "error": message}))
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("HERALD_CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,900", "--lang=en-US"):
        options.add_argument(flag)
    service = Service(os.environ.get("HERALD_CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def screenshot(driver, directory, name, width, selector="body"):
    """A full-page picture at `width` CSS pixels: the window is made as tall as the page."""
    if not directory:
        return
    driver.set_window_size(width, 900)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(height, 600), 6000))
    driver.find_element(By.CSS_SELECTOR, selector).screenshot(os.path.join(directory, name))
    driver.set_window_size(1280, 900)


def main():
    given = json.loads(sys.argv[1])
    issue_url = given["issue_url"]
    issue_path = urllib.parse.urlparse(issue_url).path
    origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlparse(issue_url))
    shots = given.get("screenshots")
    seen = {}
    driver = browser()
    wait = WebDriverWait(driver, 30)
    try:
        # A signed-out visit to the link in the Slack message lands on sign-in, remembering the page.
        driver.get(issue_url)
        wait.until(ready.url_contains("/login"))
        check("next=" + urllib.parse.quote(issue_path, safe="") in driver.current_url,
              "the sign-in page does not remember the issue: " + driver.current_url)
        driver.find_element(By.PARTIAL_LINK_TEXT, "Sign in with").click()
        # The provider double approves at once and sends the browser back through Herald's callback.
        wait.until(lambda d: urllib.parse.urlparse(d.current_url).path == issue_path)
        seen["returned_to"] = urllib.parse.urlparse(driver.current_url).path

        page = driver.find_element(By.TAG_NAME, "main").text
        frames = driver.find_elements(By.CSS_SELECTOR, ".frame.in-app")
        check(len(frames) >= 1, "no in-app stack frame is shown")
        seen["in_app_frames"] = [frame.text.split("\n")[0] for frame in frames]
        folded = driver.find_elements(By.CSS_SELECTOR, "details.other-frames")
        check(len(folded) == 1 and not folded[0].get_attribute("open"), "the other frames are not folded")
        bars = driver.find_elements(By.CSS_SELECTOR, ".charts svg rect")
        check(len(bars) == 24 + 14, "the charts do not have 24 hourly and 14 daily bars: %d" % len(bars))
        firing = driver.find_element(By.CSS_SELECTOR, "details.firing")
        seen["firing"] = firing.find_element(By.TAG_NAME, "summary").text
        trace = firing.find_element(By.CSS_SELECTOR, ".trace").text
        check("first_seen" in trace, "the firing's explain trace does not name its trigger: " + trace)
        seen["trace"] = trace
        deliveries = driver.find_element(By.ID, "deliveries").find_element(By.XPATH, "..").text
        check("delivered" in deliveries, "the delivery is not shown as delivered")
        check("open the message" in deliveries, "the delivery has no link to its message")
        check("Who did what" in page, "there is no audit trail")
        screenshot(driver, shots, "issue-page.png", 1200)

        # Resolve from the page: the one path, so the chat message is updated too (the Swift test checks).
        driver.find_element(By.CSS_SELECTOR, "button[name=action][value=resolve]").click()
        wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, ".flash")))
        state = driver.find_element(By.CSS_SELECTOR, ".state").text
        check(state.startswith("resolved"), "the issue is not shown resolved: " + state)
        audit = driver.find_element(By.CSS_SELECTOR, "ol.audit").text
        check("Resolved by Alice via web" in audit, "the audit trail does not show the action: " + audit)
        seen["audit"] = audit.split("\n")[0]

        driver.get(origin + "/issues")
        check(len(driver.find_elements(By.CSS_SELECTOR, "table.issues tbody tr")) >= 2, "the issue list is short")
        screenshot(driver, shots, "issues-list.png", 1200)
        driver.get(issue_url)
        screenshot(driver, shots, "issue-page-360px.png", 360)
        driver.get(origin + "/rules")
        check("New checkout errors" in driver.find_element(By.TAG_NAME, "main").text, "the rules page lacks the rule")
        screenshot(driver, shots, "rules-page.png", 1200)
        driver.get(origin + "/deliveries")
        check("delivered" in driver.find_element(By.TAG_NAME, "main").text, "the deliveries page shows no delivery")
        screenshot(driver, shots, "deliveries-page.png", 1200)

        driver.find_element(By.CSS_SELECTOR, "form.who button").click()
        wait.until(ready.url_contains("/login"))

        # A stakeholder, signed in with a one-time link: reads, sees no action, and a forged POST fails.
        driver.get(given["stakeholder_link"])
        driver.find_element(By.CSS_SELECTOR, "form[action='/login/link'] button").click()
        wait.until(ready.url_contains("/issues"))
        driver.get(issue_url)
        check(not driver.find_elements(By.CSS_SELECTOR, "section.actions"), "a stakeholder is offered actions")
        check(not driver.find_elements(By.CSS_SELECTOR, "button[value=unresolve]"), "a stakeholder has an unresolve button")
        csrf = driver.find_element(By.CSS_SELECTOR, "form.who input[name=csrf]").get_attribute("value")
        cookie = driver.get_cookie("herald_session")
        check(cookie is not None and cookie.get("httpOnly"), "the session cookie is not HttpOnly")
        forged = urllib.request.Request(
            origin + issue_path + "/actions", method="POST",
            data=urllib.parse.urlencode({"action": "unresolve", "csrf": csrf}).encode(),
            headers={"Cookie": "herald_session=" + cookie["value"],
                     "Content-Type": "application/x-www-form-urlencoded"})

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        try:
            urllib.request.build_opener(NoRedirect).open(forged)
            fail("the forged POST was not answered with a redirect")
        except urllib.error.HTTPError as answer:
            seen["forged_post"] = answer.headers.get("Location")
            check(answer.code == 303 and answer.headers.get("Location", "").endswith("done=forbidden"),
                  "the forged POST was not refused: %s %s" % (answer.code, answer.headers.get("Location")))
        driver.get(issue_url)
        check(driver.find_element(By.CSS_SELECTOR, ".state").text.startswith("resolved"),
              "the forged POST changed the issue")
    finally:
        driver.quit()
    print(json.dumps({"ok": True, "seen": seen}))


if __name__ == "__main__":
    main()
