"""A spending's receipt can be downloaded, as a download with its own type, by whoever sees the
account — and by no one else (404), nor for a spending without one."""

# ruff: noqa: F811  (the fixtures imported below are requested by name)

from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401  (pytest fixtures)
from tests.payments.test_spending import (
    body,
    loaded,  # noqa: F401  (a pytest fixture)
    url,
)
from tests.sample_files import PDF_BYTES


def _spend(api_as, account, receipt=None):
    data = {**body(amount="75.50")}
    if receipt is not None:
        data["receipt"] = receipt
        response = api_as(account.holder).post(url(account), data, format="multipart")
    else:
        response = api_as(account.holder).post(url(account), data, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_the_holder_and_finance_download_a_receipt_and_others_get_404(
    api_as, web_as, loaded, finance_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    sid = _spend(api_as, loaded, SimpleUploadedFile("wages.pdf", PDF_BYTES, content_type="application/pdf"))
    link = f"/budgets/{loaded.budget_id}/direct-payment/spending/{sid}/receipt"

    page = web_as(loaded.holder).get(f"/budgets/{loaded.budget_id}/direct-payment/").content.decode()
    assert f'href="{link}"' in page
    for user in (loaded.holder, finance_user):
        response = web_as(user).get(link)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith('attachment; filename="wages.pdf"')
        assert b"".join(response.streaming_content) == PDF_BYTES

    stranger = factories.ClientFactory(full_name="Someone Else")
    assert web_as(stranger).get(link).status_code == 404
    other_budget = f"/budgets/{loaded.budget_id + 999}/direct-payment/spending/{sid}/receipt"
    assert web_as(loaded.holder).get(other_budget).status_code == 404


def test_a_spending_without_a_receipt_has_nothing_to_download(api_as, web_as, loaded):
    sid = _spend(api_as, loaded)
    assert (
        web_as(loaded.holder).get(f"/budgets/{loaded.budget_id}/direct-payment/spending/{sid}/receipt").status_code
        == 404
    )
