"""A client generated from the served document (openapi-python-client) drives a whole
cycle with no raw HTTP: what an integrator's typed client can rely on."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import MENTEE_PROFILE, MENTOR_PROFILE, PASSWORD, TAXONOMY

PACKAGE = "peermatch_client"


@pytest.fixture
def generated(client, tmp_path: Path) -> Any:
    """The client package generated from /api/openapi.json, imported."""
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(client.get("/api/openapi.json").json))
    tool = Path(sys.executable).with_name("openapi-python-client")
    command = str(tool) if tool.exists() else shutil.which("openapi-python-client")
    assert command, "openapi-python-client is a test dependency"
    done = subprocess.run(
        [
            command,
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(tmp_path / PACKAGE),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 0, output
    # No warnings: every part of the document was understood.
    assert output.splitlines() == [f"Generating {tmp_path / PACKAGE}"], output
    sys.path.insert(0, str(tmp_path))
    try:
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))


def _module(package: Any, name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_a_generated_client_runs_a_whole_cycle_with_typed_answers(app, generated, admin):
    api = lambda area, op: _module(generated, f"api.{area}.{op}")  # noqa: E731
    models = _module(generated, "models")
    transport = httpx.WSGITransport(app=app)
    base = "http://peermatch.test"
    anonymous = generated.Client(base_url=base, httpx_args={"transport": transport})

    def log_in(email: str) -> Any:
        token = api("accounts", "post_tokens").sync(
            client=anonymous, body=models.TokenRequest(email=email, password=PASSWORD)
        )
        assert isinstance(token, models.Token), token
        return generated.AuthenticatedClient(
            base_url=base, token=token.token, httpx_args={"transport": transport}
        )

    def register(email: str, name: str) -> Any:
        account = api("accounts", "post_accounts").sync(
            client=anonymous,
            body=models.AccountCreate(email=email, password=PASSWORD, display_name=name),
        )
        assert isinstance(account, models.Account), account
        return log_in(email)

    # An error answer is a typed problem, not None.
    wrong = api("accounts", "post_tokens").sync(
        client=anonymous, body=models.TokenRequest(email=admin["email"], password="nope-nope-nope")
    )
    assert isinstance(wrong, models.Problem) and wrong.status == 401

    # The admin creates a program and appoints a coordinator.
    admin_client = log_in(admin["email"])
    program = api("programs", "post_programs").sync(
        client=admin_client,
        body=models.ProgramCreate(
            name="Generated",
            slug="generated-client",
            taxonomy=TAXONOMY,
            settings=models.ProgramSettings.from_dict({"max_capacity": 4}),
        ),
    )
    assert isinstance(program, models.Program), program
    coordinator = register("gen-coordinator@example.org", "Coordinator")
    appointed = api("programs", "post_coordinators").sync(
        program.id,
        client=admin_client,
        body=models.CoordinatorAppoint(email="gen-coordinator@example.org"),
    )
    assert isinstance(appointed, models.Coordinator), appointed

    # A setting patch changes only that setting.
    before = api("programs", "get_program_item").sync(program.id, client=coordinator)
    changed = api("programs", "patch_program_item").sync(
        program.id,
        client=coordinator,
        body=models.ProgramUpdate(settings=models.ProgramSettingsPatch(proposal_expiry_days=14)),
    )
    assert isinstance(changed, models.Program), changed
    assert changed.settings.proposal_expiry_days == 14
    diff = {k for k, v in changed.settings.to_dict().items() if before.settings.to_dict()[k] != v}
    assert diff == {"proposal_expiry_days"}

    # A mentee and a mentor join and write their profiles.
    people = {}
    for role, profile in (("mentee", MENTEE_PROFILE), ("mentor", MENTOR_PROFILE)):
        person = register(f"gen-{role}@example.org", role.title())
        joined = api("programs", "post_join").sync(
            client=person, body=models.Join(join_code=program.join_code, role=models.JoinRole(role))
        )
        assert isinstance(joined, models.Participant), joined
        created = api("profiles", "post_own_profile").sync(
            program.id, client=person, body=models.Profile.from_dict(profile)
        )
        assert isinstance(created, models.Participant), created
        people[role] = person
    mentee = people["mentee"]

    # A partial update leaves every field it does not name as it was.
    own = api("profiles", "get_own_profile").sync(program.id, client=mentee)
    patched = api("profiles", "patch_own_profile").sync(
        program.id, client=mentee, body=models.ProfilePatch(bio="x")
    )
    assert isinstance(patched, models.Participant), patched
    assert patched.profile.bio == "x"
    assert patched.profile.cultural_preference == own.profile.cultural_preference
    assert patched.profile.languages == own.profile.languages
    assert [n.to_dict() for n in patched.profile.needs] == [n.to_dict() for n in own.profile.needs]

    # The coordinator runs a round, reviews and publishes it (idempotently).
    started = api("rounds", "post_rounds").sync(
        program.id, client=coordinator, body=models.RoundStart()
    )
    assert isinstance(started, models.Round), started
    round_ = api("rounds", "get_round_item").sync(program.id, started.id, client=coordinator)
    assert round_.status == models.RoundStatus.PROPOSED
    assert round_.stats.matched_count == 1
    pairs = api("rounds", "get_round_pairs").sync(program.id, round_.id, client=coordinator)
    assert pairs.total == 1 and pairs.items[0].breakdown.needs >= 0
    for _ in range(2):  # the retry replays the first answer
        published = api("rounds", "post_round_publish").sync(
            program.id, round_.id, client=coordinator, idempotency_key="generated-publish-1"
        )
        assert isinstance(published, models.PublishedRound), published
        assert published.matches_created == 1
    exported = api("rounds", "get_round_pairs_csv").sync(program.id, round_.id, client=coordinator)
    assert isinstance(exported, str) and exported.startswith("round_id,")

    # Both partners accept; the mentee checks in.
    [match] = api("matches", "get_my_matches").sync(client=mentee)
    for person in people.values():
        answered = api("matches", "post_accept").sync(match.id, client=person)
        assert isinstance(answered, models.Match), answered
    assert answered.status == models.MatchStatus.ACTIVE
    again = api("matches", "post_accept").sync(match.id, client=mentee)
    assert isinstance(again, models.ConflictProblem | models.Problem) and again.status == 409
    checked = api("matches", "post_check_ins").sync(
        match.id,
        client=mentee,
        body=models.CheckInCreate(rating=4, signal=models.CheckInCreateSignal.OK),
    )
    assert isinstance(checked, models.CheckIn), checked

    # The mentee exports their data, then erases the account (the password confirms it).
    export = api("accounts", "get_my_export").sync(client=mentee)
    assert isinstance(export, models.Export) and export.account.email == "gen-mentee@example.org"
    refused = api("accounts", "delete_me").sync_detailed(
        client=mentee, body=models.Erase(password="not-my-password")
    )
    assert refused.status_code == 403 and isinstance(refused.parsed, models.Problem)
    erased = api("accounts", "delete_me").sync_detailed(
        client=mentee, body=models.Erase(password=PASSWORD)
    )
    assert erased.status_code == 204
