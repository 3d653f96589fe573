"""The casework declared lists (``core.lists``), one module per kind of record."""


def as_export(request):
    """``request`` asking its list for the .xlsx export: the older ``…/export/``
    addresses answer through the list's own export (same filters, same checks)."""
    query = request.GET.copy()
    query["format"] = "xlsx"
    request.GET = query
    return request
