"""Every group URL, requested as every kind of visitor; the answer must match the table.

A new group URL without a row here fails `test_every_group_url_has_a_row`.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# status code for GET, by URL name and by who asks
P, M, F, E, OTHER, ADMIN, ANON = (
    "point_person",
    "member",
    "facilitator",
    "evaluator",
    "other_group",
    "society_admin",
    "signed_out",
)
MATRIX = {
    "groups:group-home": {P: 200, M: 200, F: 200, E: 200, OTHER: 404, ADMIN: 404, ANON: 302},
    "groups:worker-check": {P: 200, M: 403, F: 403, E: 403, OTHER: 404, ADMIN: 404, ANON: 302},
}
POST_MATRIX = {
    "groups:worker-check": {P: 302, M: 403, F: 403, E: 403, OTHER: 404, ADMIN: 404, ANON: 302},
}


def _names(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _names(p.url_patterns, prefix + (p.namespace + ":" if p.namespace else ""))
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + p.name


def test_every_group_url_has_a_row():
    names = set(_names(get_resolver("config.urls_group").url_patterns))
    assert names == set(MATRIX), "add the new URL to MATRIX with the answer each visitor gets"


def _visitor(world, who):
    return {
        P: world.alice,
        M: world.bob,
        F: world.carol,
        E: world.erin,
        OTHER: world.mallory,
        ADMIN: world.sam,
        ANON: None,
    }[who]


def _url(name):
    return reverse(name, urlconf="config.urls_group")


@pytest.mark.parametrize(("name", "who"), [(n, w) for n, row in MATRIX.items() for w in row])
def test_get_answers_as_the_table_says(db, world, client_for, name, who):
    response = client_for(_visitor(world, who), world.alpha).get(_url(name))
    assert response.status_code == MATRIX[name][who]
    if response.status_code == 302 and who == ANON:
        assert response["Location"].startswith("http://horizontal.localhost:8765/accounts/login/")
    if response.status_code == 404:
        assert "Alpha Peer Group" not in response.text  # an outsider learns nothing about the group


@pytest.mark.parametrize(("name", "who"), [(n, w) for n, row in POST_MATRIX.items() for w in row])
def test_post_answers_as_the_table_says(db, world, client_for, name, who):
    response = client_for(_visitor(world, who), world.alpha).post(_url(name))
    assert response.status_code == POST_MATRIX[name][who]
