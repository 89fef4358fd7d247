"""Reading a keyset-paginated API list to its end, as a client does."""
from __future__ import annotations


def every_item(client, headers, path: str, query: str = "", limit: int = 1) -> list[dict]:
    """Every item of a listing, following its cursors a small page at a time."""
    items, cursor = [], None
    while True:
        answer = client.get(f"{path}?limit={limit}&{query}" + (f"&cursor={cursor}" if cursor else ""),
                            headers=headers)
        assert answer.status_code == 200, answer.json
        items += answer.json["items"]
        cursor = answer.json["next_cursor"]
        if cursor is None:
            return items
