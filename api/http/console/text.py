"""Every word the console shows, in one place, so it can be translated later.

Templates and views read these names (templates see this module as `t`); nothing of
the console's interface is written anywhere else. Words of the vocabulary (statuses,
reasons, criteria) are looked up in the mappings below by their enum value.
"""

from __future__ import annotations

APP_NAME = "peermatch console"
SKIP_TO_CONTENT = "Skip to the content"
NAV_LABEL = "Main"
NAV_PROGRAMS = "Programs"
NAV_HOME = "Home"
NAV_PARTICIPANTS = "Participants"
NAV_ROUNDS = "Rounds"
NAV_MATCHES = "Matches"
LOG_OUT = "Log out"
SIGNED_IN_AS = "Signed in as {name}"

# --- log-in ------------------------------------------------------------------------------
LOGIN_TITLE = "Log in"
LOGIN_INTRO = "Coordinators log in with the same email and password as for the API."
EMAIL = "Email"
PASSWORD = "Password"
LOGIN_BUTTON = "Log in"
LOGIN_FAILED = "The email or password is wrong."
LOGIN_TOO_MANY = "Too many attempts. Wait a minute and try again."
LOGGED_OUT = "You are logged out."
SESSION_NEEDED = "Log in to open that page."
CSRF_FAILED = "The form expired or did not come from this site. Open the page again and retry."

# --- errors ------------------------------------------------------------------------------
ERROR_TITLE = "That did not work"
NOT_FOUND_TITLE = "Not found"
FORBIDDEN_TITLE = "Not for you"
BACK_TO_PROGRAMS = "Back to the programs"

# --- programs ----------------------------------------------------------------------------
PROGRAMS_TITLE = "Your programs"
PROGRAMS_NONE = "You coordinate no program. An admin can appoint you to one."
PROGRAM_NAME = "Program"
PROGRAM_PARTICIPANTS = "Participants"
PROGRAM_YOUR_ROLE = "Your role"
PROGRAM_OPEN = "Open {name}"
NOT_COORDINATOR = "participant (the console is for coordinators)"

# --- program home ------------------------------------------------------------------------
FUNNEL_TITLE = "Funnel"
FUNNEL_CHART_LABEL = "People at each stage of the program"
FUNNEL_STAGES = {
    "joined": "Joined",
    "profile_complete": "Profile complete",
    "waiting": "Waiting for a mentor",
    "proposed": "Proposed",
    "active": "Active",
    "ended": "Ended",
}
WAITING_BY_REASON = "Why mentees are waiting"
RATES = "Rates"
ACCEPTANCE_RATE = "Acceptance"
EXPIRY_RATE = "Expiry"
DAYS_TO_FIRST_PROPOSAL = "Days from a complete profile to the first proposal (median / 90th)"
NO_VALUE = "–"
ATTENTION_TITLE = "Needs attention"
ATTENTION_NONE = "No active relationship needs attention."
ATTENTION_REASONS = {
    "low_rating": "low rating",
    "mentor_drained": "mentor drained",
    "mentee_drained": "mentee drained",
    "no_recent_check_in": "no recent check-in",
}
QUICK_ACTIONS = "Next steps"
START_A_ROUND = "Start a round"
LATEST_ROUND = "Latest round: {id} ({status})"

# --- participants ------------------------------------------------------------------------
PARTICIPANTS_TITLE = "Participants"
FILTERS = "Filters"
FILTER_ROLE = "Role"
FILTER_STATUS = "Status"
FILTER_TAG = "Need or strength"
FILTER_ANY = "any"
FILTER_APPLY = "Apply filters"
NEXT_PAGE = "Next page"
NAME = "Name"
ROLE = "Role"
STATUS = "Status"
LANGUAGES = "Languages"
TIMEZONE = "Time zone"
CAPACITY = "Capacity"
PROFILE = "Profile"
NO_PARTICIPANTS = "No participant matches these filters."
PROFILE_TITLE = "Profile of {name}"
SPECIAL_CATEGORY_NOTE = (
    "Cultural background and wellbeing needs are special category data: shown to the "
    "program's coordinators only, and only while the person's consent lasts."
)
PROFILE_FIELDS = {
    "email": "Email",
    "role": "Role",
    "status": "Status",
    "bio": "About",
    "needs": "Needs",
    "strengths": "Strengths",
    "languages": "Languages",
    "timezone": "Time zone",
    "availability": "Weekly availability (local time)",
    "capacity": "Capacity",
    "experience_level": "Experience level",
    "org_unit": "Organisation unit",
    "manager_email": "Manager",
    "preferred_partners": "Preferred partners",
    "cultural_preference": "Cultural preference",
    "cultural_background": "Cultural background",
    "wellbeing_needs": "Wellbeing needs",
    "consent": "Consent",
}
IMPORT_TITLE = "Import participants from a CSV file"
IMPORT_FILE = "CSV file"
IMPORT_HINT = "One row per person; the columns of the API's import (email, role, …)."
IMPORT_INVITE = "Send new people an invitation to set a password"
IMPORT_DRY_RUN = "Only check the file (write nothing)"
IMPORT_BUTTON = "Import"
IMPORT_FAILED = "Nothing was imported: fix the rows below and upload the file again."
IMPORT_ROW = "Row"
IMPORT_ERRORS = "What is wrong"
IMPORT_DONE = "{rows} rows read: {created} new, {updated} updated, {unchanged} unchanged."
IMPORT_CHECKED = "The file is fine: {rows} rows would be imported. Nothing was written."
IMPORT_NO_FILE = "Choose a CSV file."

# --- rounds ------------------------------------------------------------------------------
ROUNDS_TITLE = "Rounds"
ROUND_TITLE = "Round {id}"
ROUND = "Round"
KIND = "Kind"
CREATED = "Created"
MATCHED = "Matched"
OPEN = "Open"
NO_ROUNDS = "No round yet."
START_TITLE = "Start a round"
START_INTRO = "The round uses the program's settings; change any of them for this round only."
OBJECTIVE = "Objective"
OBJECTIVES = {
    "max_participation": "As many mentees matched as possible, then the best total score",
    "max_score": "The best total score",
    "fair": "As many matched as possible, then the best lowest score",
}
OVERRIDES = "Overrides for this round"
WEIGHTS = "Criterion weights"
SETTING_LABELS = {
    "min_overlap_minutes": "Minimum weekly overlap (minutes)",
    "target_overlap_minutes": "Weekly overlap that scores best (minutes)",
    "min_experience_gap": "Smallest experience gap (mentor minus mentee)",
    "max_experience_gap": "Largest experience gap (mentor minus mentee)",
    "ideal_experience_gap": "Experience gap that scores best",
    "forbid_same_org_unit": "Never pair two people of the same organisation unit",
    "load_penalty": "Score less for each further mentee of one mentor",
    "waiting_class_days": "Days per waiting class",
}
START_BUTTON = "Start the round"
PROGRESS_TITLE = "Round {id} is {status}"
PROGRESS_LABEL = "Progress of the round"
PROGRESS_PHASE = "Phase: {phase}"
PROGRESS_REFRESH = "This page refreshes every two seconds until the round is done."
FAILED = "The round failed: {detail}"
REVIEW_TITLE = "Review of round {id}"
SUMMARY = "Summary"
MENTEES_MATCHED = "Mentees matched"
MEAN_SCORE = "Mean score"
MIN_SCORE = "Lowest score"
BLOCKING_PAIRS = "Blocking pairs"
BLOCKING_PAIRS_HELP = (
    "Mentee and mentor who would both rather be together than with their partners."
)
SCORE_HISTOGRAM = "Scores of the pairs"
SCORE_HISTOGRAM_LABEL = "Histogram: number of pairs per score band"
MENTOR_LOAD = "Mentor load"
MENTOR_LOAD_LABEL = "Number of mentors per number of mentees they get"
MENTEES_PER_MENTOR = "{n} mentees"
PAIRS_TITLE = "Pairs"
PAIRS_CAPTION = "Pairs {first}–{last} of {total}, sorted by {sort}"
SORT_BY = {
    "-score": "score, best first",
    "score": "score, weakest first",
    "mentee": "mentee",
    "mentor": "mentor",
}
SORT_LINK = "Sort by {what}"
MENTEE = "Mentee"
MENTOR = "Mentor"
SCORE = "Score"
PINNED = "pinned"
WHY = "Why (per criterion)"
EXPLANATION_LABEL = "Score per criterion of {mentee} and {mentor}"
COVERED_NEEDS = "Needs covered"
SHARED_LANGUAGES = "Shared languages"
ACTIONS = "Actions"
PIN = "Pin"
FORBID = "Forbid"
PIN_LABEL = "Pin {mentee} with {mentor} in the next rounds"
FORBID_LABEL = "Forbid pairing {mentee} with {mentor}"
PINNED_DONE = "Pinned {mentee} with {mentor}: the next round pairs them."
FORBIDDEN_DONE = "Forbidden {mentee} with {mentor}: no round pairs them any more."
CRITERIA = {
    "needs": "Needs covered",
    "availability": "Availability",
    "language": "Language",
    "culture": "Culture",
    "experience": "Experience",
    "preference": "Preference",
}
PREVIOUS_PAGE = "Previous pairs"
NEXT_PAIRS = "Next pairs"
UNMATCHED_TITLE = "Unmatched mentees"
UNMATCHED_NONE = "Every mentee is matched."
REASON = "Reason"
BEST_ALTERNATIVE = "Best alternative"
UNMATCHED_REASONS = {
    "no_feasible_mentor": "no mentor is possible",
    "capacity_taken": "possible mentors are all taken",
    "not_selected": "left out for a better total",
}
EXCLUDED_BY = "excluded by: {rules}"
ALTERNATIVE = "{name} (score {score})"
DECIDE = "Decide"
DISCARD = "Discard this round"
DISCARDED = "Round {id} is discarded."
PUBLISH = "Publish…"
REVIEW_AGAIN = "Run again with the constraints"
PUBLISH_TITLE = "Publish round {id}?"
PUBLISH_WHAT = (
    "{pairs} pairs become proposals: each mentee and mentor gets a message and has "
    "{days} days to answer. {unmatched} mentees stay unmatched and wait for the next round."
)
PUBLISH_CHECK = (
    "Every pair is checked against the program as it is now; if any pair no longer "
    "holds, nothing is published and you see which."
)
PUBLISH_FINAL = "A published round never changes."
PUBLISH_CONFIRM = "Publish the round"
CANCEL = "Go back"
PUBLISHED = "Round {id} is published: {count} proposals were sent."
STALE = "Nothing was published: these pairs no longer hold."
ROUND_STATUSES = {
    "queued": "queued",
    "running": "running",
    "proposed": "proposed",
    "published": "published",
    "failed": "failed",
    "discarded": "discarded",
}

# --- matches -----------------------------------------------------------------------------
MATCHES_TITLE = "Matches"
MATCHES_FILTER = "Show"
MATCHES_LIVE = "live (proposed, accepted, active)"
MATCHES_ALL = "all"
MATCH = "Match"
LAST_CHECK_IN = "Last check-in"
NO_CHECK_IN = "none yet"
CHECK_IN_SIGNAL = "{signal}, rating {rating}, {when}"
NO_MATCHES = "No match to show."
REASON_FIELD = "Reason (the partners are told)"
END = "End"
CANCEL_MATCH = "Cancel"
END_LABEL = "End the match of {mentee} and {mentor}"
CANCEL_LABEL = "Cancel the proposal to {mentee} and {mentor}"
ENDED = "The match of {mentee} and {mentor} is ended."
CANCELLED = "The proposal to {mentee} and {mentor} is cancelled."
REASON_REQUIRED = "Say why, in a few words."
MATCH_STATUSES = {
    "proposed": "proposed",
    "accepted": "accepted by one",
    "active": "active",
    "ended": "ended",
    "declined": "declined",
    "expired": "expired",
    "cancelled": "cancelled",
}
SIGNALS = {"ok": "ok", "stretched": "stretched", "drained": "drained"}
ROLES = {"mentor": "mentor", "mentee": "mentee", "both": "mentor and mentee"}
PARTICIPANT_STATUSES = {"active": "active", "paused": "paused", "withdrawn": "withdrawn"}
ROUND_KINDS = {"manual": "manual", "rematch": "nightly rematch"}
PROGRAM_ROLES = {"admin": "admin", "coordinator": "coordinator"}
