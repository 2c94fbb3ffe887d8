from __future__ import annotations

from .conftest import Api, body_of


def test_unknown_payment_is_a_404_in_the_error_shape(api: Api) -> None:
    response = api.call("GET", "/v1/payments/pay_missing")
    assert response["statusCode"] == 404
    assert body_of(response) == {
        "error": {"code": "not_found", "message": "no payment with id pay_missing", "field": "id"}
    }


def test_too_long_id_is_a_422(api: Api) -> None:
    response = api.call("GET", "/v1/payments/" + "x" * 65)
    assert response["statusCode"] == 422
    assert body_of(response)["error"]["field"] == "id"
