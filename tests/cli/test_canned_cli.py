"""``dprk-kg query``: the same answers offline (bundled files) and through a running service."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from service.cli.main import main
from service.cli.query import TRUNCATED_NOTE

TIMELINE = ["query", "contacts-timeline", "-p", "year_from=2012", "-p", "year_to=2012", "-p",
            "level=djr:level-bureau-chief"]


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def test_list_names_every_query(runner, client):
    result = runner.invoke(main, ["query", "--list"])
    assert result.exit_code == 0, result.output
    for entry in client.get("/queries.json").get_json()["queries"]:
        assert entry["name"] in result.output


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json"])
def test_offline_answers_equal_the_services(runner, client, fmt):
    result = runner.invoke(main, [*TIMELINE, "--format", fmt])
    assert result.exit_code == 0, result.output
    served = client.get(f"/queries/contacts-timeline.{fmt}?year_from=2012&year_to=2012&level=djr:level-bureau-chief")
    assert result.stdout_bytes.rstrip(b"\n") == served.data.rstrip(b"\n")


def test_the_table_format_is_readable(runner):
    result = runner.invoke(main, TIMELINE)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["event", "type", "label"]
    assert lines[2].split()[:2] == ["djr:ev-2012-11-mongolia-talks", "dj:IntergovernmentalTalks"]
    assert lines[-1] == "(2 rows)"


def test_a_graph_query_prints_turtle(runner):
    result = runner.invoke(main, ["query", "round-in-full", "-p", "round=djr:ev-2012-11-mongolia-talks"])
    assert result.exit_code == 0, result.output
    assert "djr:ev-2012-11-mongolia-talks" in result.output and "@prefix" in result.output


def test_a_refused_value_exits_2_naming_the_parameter(runner):
    result = runner.invoke(main, ["query", "contacts-timeline", "-p", "year_from=twenty"])
    assert result.exit_code == 2
    assert "parameter 'year_from': expected a year YYYY" in result.output


def test_an_unknown_query_exits_2(runner):
    result = runner.invoke(main, ["query", "no-such-query"])
    assert result.exit_code == 2 and "no canned query named 'no-such-query'" in result.output


def test_a_malformed_param_option_is_a_usage_error(runner):
    result = runner.invoke(main, ["query", "contacts-timeline", "-p", "year_from"])
    assert result.exit_code == 2 and "expected key=value" in result.output


def test_against_a_running_service(runner, live_server):
    local = runner.invoke(main, [*TIMELINE, "--format", "csv"])
    remote = runner.invoke(main, [*TIMELINE, "--format", "csv", "--endpoint", live_server.url])
    assert remote.exit_code == 0, remote.output
    assert remote.stdout_bytes == local.stdout_bytes
    assert TRUNCATED_NOTE not in remote.stderr and TRUNCATED_NOTE not in local.stderr  # nothing was cut
    table = runner.invoke(main, [*TIMELINE, "--endpoint", live_server.url])
    assert table.output.splitlines()[-1] == "(2 rows)"
    listing = runner.invoke(main, ["query", "--list", "--endpoint", live_server.url])
    assert "contacts-timeline" in listing.output


def test_a_service_refusal_is_reported(runner, live_server):
    result = runner.invoke(main, ["query", "round-details", "--endpoint", live_server.url])
    assert result.exit_code == 2
    assert "the service answered 400: parameter 'round': is required" in result.output


def test_an_answer_cut_by_the_services_row_cap_says_so_on_stderr(runner, make_live_server):
    server = make_live_server("--result-row-cap", "1")
    result = runner.invoke(main, [*TIMELINE, "--format", "csv", "--endpoint", server.url])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2  # the header and the one row the cap let through
    assert TRUNCATED_NOTE in result.stderr and TRUNCATED_NOTE not in result.stdout
