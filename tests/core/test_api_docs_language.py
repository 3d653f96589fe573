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


def test_the_openapi_document_has_no_duplicate_keys(client, county_user):
    # given the OpenAPI document the docs page reads (Swagger's YAML reader refuses
    # duplicate keys, and the page then stays blank)
    import json

    client.force_login(county_user)
    text = client.get("/api/v1/openapi.json").content.decode()
    duplicates = []

    def pairs(items):
        keys = [key for key, _value in items]
        duplicates.extend(key for key in set(keys) if keys.count(key) > 1)
        return dict(items)

    # when it is read
    json.loads(text, object_pairs_hook=pairs)
    # then no object has the same key twice
    assert duplicates == []
