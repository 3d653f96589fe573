"""The browser's own request for /favicon.ico finds the platform's icon (issue #13 item 7)."""

from django.contrib.staticfiles import finders


def test_favicon_ico_points_to_the_svg_icon(client):
    # when a browser asks for /favicon.ico
    response = client.get("/favicon.ico")
    # then it is sent, for good, to the SVG icon, which is a static file of the platform
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")
    assert finders.find("favicon.svg")
