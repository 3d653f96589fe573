"""The API docs page speaks the reader's language: its title and description in Chinese by
default, in English when the reader chose English."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_api_docs_title_and_description_follow_the_language(client, county_user):
    # given a signed-in user (Chinese is the default language)
    client.force_login(county_user)
    # when they open the docs page and its OpenAPI document
    page = client.get("/api/v1/docs").content.decode()
    info = client.get("/api/v1/openapi.json").json()["info"]
    # then the title and description are in Chinese
    assert "<title>社工服务平台接口</title>" in page
    assert info["title"] == "社工服务平台接口"
    assert "辖区" in info["description"]
    # and in English for a reader who chose English
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    info_en = client.get("/api/v1/openapi.json").json()["info"]
    assert info_en["title"] == "Shegong API"
