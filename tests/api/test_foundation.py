from tests.conftest import PASSWORD
from tracker.extensions import db


def test_token_then_units_scoped_to_the_caller(client, org, make_user, api_token):
    head = make_user("unit_head", org.station)
    db.session.commit()
    headers = api_token(head.username)
    body = client.get("/api/v1/units", headers=headers).get_json()
    codes = {item["code"] for item in body["items"]}
    assert codes == {"C-N-1", "C-N-1-H", "C-N-1-T"}
    hall = next(item for item in body["items"] if item["code"] == "C-N-1-H")
    assert hall == {"code": "C-N-1-H", "name": "城关营业厅", "level": "hall", "parent_code": "C-N-1", "active": True}
    assert body["next_cursor"] is None


def test_units_cursor_paging(client, org, make_user, api_token):
    admin = make_user("admin")
    db.session.commit()
    headers = api_token(admin.username)
    first = client.get("/api/v1/units?limit=3", headers=headers).get_json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = client.get(f"/api/v1/units?limit=3&cursor={first['next_cursor']}", headers=headers).get_json()
    third = client.get(f"/api/v1/units?limit=3&cursor={second['next_cursor']}", headers=headers).get_json()
    seen = [i["code"] for page in (first, second, third) for i in page["items"]]
    assert sorted(seen) == sorted(["C", "C-N", "C-S", "C-N-1", "C-N-1-H", "C-N-1-T", "C-S-1"])
    assert third["next_cursor"] is None


def test_bad_cursor_and_limit_are_422_with_fields(client, make_user, api_token):
    user = make_user("admin")
    db.session.commit()
    headers = api_token(user.username)
    response = client.get("/api/v1/units?cursor=!!!", headers=headers)
    assert response.status_code == 422
    assert "cursor" in response.get_json()["error"]["fields"]
    response = client.get("/api/v1/units?limit=500", headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"
    assert "limit" in response.get_json()["error"]["fields"]


def test_wrong_credentials_401_and_throttled_429(client, make_user, app):
    user = make_user()
    db.session.commit()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        response = client.post("/api/v1/tokens", json={"username": user.username, "password": "wrong-pass"})
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "invalid_credentials"
    response = client.post("/api/v1/tokens", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_missing_fields_and_malformed_json(client):
    response = client.post("/api/v1/tokens", json={"username": "x"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["password"]
    response = client.post("/api/v1/tokens", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert "error" in response.get_json()


def test_missing_or_garbage_token_is_401(client):
    assert client.get("/api/v1/units").status_code == 401
    response = client.get("/api/v1/units", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_openapi_describes_what_exists(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/tokens", "/api/v1/units"} <= set(spec["paths"])
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    assert "201" in spec["paths"]["/api/v1/tokens"]["post"]["responses"]
