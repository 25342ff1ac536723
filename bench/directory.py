"""Directory search over 100,000 profiles against the plain `icontains` query, in one run.

Loads seeded, realistic members (users with bulk_create, profiles with COPY, every search vector
in one UPDATE that writes what directory.services.profile_save writes; checked on a few
profiles), then times a representative set of searches, each through
directory.selectors.profile_search exactly as the search page calls it, and the `icontains`
query a first version would use for the same search, interleaved so machine noise hits both
alike. Ends with one line (ratio = icontains p95 / our p95):

    directory: p50 4.1 ms, p95 9.8 ms, icontains p95 310 ms, ratio 31.6

Runs in a scratch database of its own, dropped at the end.
Usage: make bench-directory (or python bench/directory.py --help).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from provision import scratch_database  # noqa: E402

SEED = 20240611
CHUNK = 5000  # users (and profiles) inserted per round trip of bulk_create


def words(text: str) -> list[str]:
    return text.split()


FIRST = words("""
Ada Aisha Akira Alejandro Alex Ali Amara Amir Ana Andrea Andrew Angela Anil Anna Ari Ayesha Ben
Bianca Carlos Carmen Catherine Chen Chidi Chloe Chris Daniel David Deepa Diego Dmitri Elena
Elif Elizabeth Emeka Emily Emma Eric Fatima Felipe Fiona Gabriel Grace Hannah Hao Hiroshi Ibrahim
Ines Isabel Jamal James Jennifer Jia Joao John Jose Joseph Julia Karen Kavya Kenji Kevin Kim
Kwame Laura Lauren Layla Leah Li Lin Lucia Luis Maria Mark Marta Matthew Mei Michael Michelle
Mohammed Nadia Naomi Nia Nikhil Noah Olivia Omar Priya Rachel Rahul Ravi Rebecca Ricardo Robert
Rosa Ruth Samuel Sara Sarah Sean Sofia Sonia Stephen Sunita Tamar Thomas Tomas Vanessa Victor Wei
William Xin Yara Yusuf Zainab Zoe
""")
LAST = words("""
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips
Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers
Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson
Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders
Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler
Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton
Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina
Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington
Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter
Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black
Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson
Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce
Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson
Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena
Richards Contreras Willis Carpenter Lawrence Sandoval Okafor Adeyemi Mensah Osei Haddad Khalil
Nakamura Tanaka Suzuki Yamamoto Wang Zhang Liu Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He
Lin Kumar Singh Sharma Gupta Reddy Iyer Rao Shah Mehta Kowalski Novak Horvat Nielsen Larsen
Johansson Virtanen Rossi Russo Ferrari Esposito Bianchi Romano Costa Dubois Moreau Laurent
Lefebvre Fischer Weber Schneider Becker Schulz Keller Muller Oliveira Pereira Almeida Ivanova
Petrov Sokolov Popescu Nowak Cohen Levi Friedman Katz Ozturk Yilmaz Demir Sahin Abebe Tesfaye
""")
PRONOUNS = ["she/her", "he/him", "they/them", "she/they", "he/they", ""]
PRONOUN_WEIGHTS = [30, 28, 6, 3, 2, 31]
DEPARTMENTS = [
    "Department of Medicine",
    "Internal Medicine",
    "Emergency Medicine",
    "Family Medicine",
    "Pediatrics",
    "Surgery",
    "Psychiatry",
    "Neurology",
    "Radiology",
    "Pathology",
    "Anesthesiology",
    "Obstetrics and Gynecology",
    "Ophthalmology",
    "Dermatology",
    "Epidemiology",
    "Biostatistics",
    "Health Policy and Management",
    "Population Health Sciences",
    "School of Nursing",
    "School of Public Health",
    "Biomedical Informatics",
    "Molecular Biology",
    "Pharmacology",
    "Physiology",
    "Microbiology and Immunology",
    "Rehabilitation Medicine",
    "Orthopaedic Surgery",
    "Urology",
    "Genetics",
    "Medical Education",
    "",
]
SPECIALTIES = words("""
cardiology nephrology oncology hematology gastroenterology hepatology pulmonology endocrinology
rheumatology infectious-diseases geriatrics palliative-care critical-care neonatology
neuro-oncology child-psychiatry addiction-medicine sleep-medicine allergy-immunology
hospital-medicine primary-care sports-medicine health-services-research implementation-science
global-health health-equity clinical-informatics genetic-counseling transplant-surgery
vascular-surgery trauma-surgery interventional-radiology nuclear-medicine dermatopathology
cytopathology pediatric-cardiology maternal-fetal-medicine reproductive-endocrinology
neuroradiology health-economics biostatistics
""")
INTEREST_PHRASES = [
    "health equity",
    "implementation science",
    "machine learning in radiology",
    "community-engaged research",
    "rural health",
    "maternal health",
    "opioid use disorder",
    "heart failure outcomes",
    "kidney transplantation",
    "antimicrobial stewardship",
    "cancer survivorship",
    "tobacco cessation",
    "medical education research",
    "patient safety",
    "telehealth",
    "social determinants of health",
    "clinical decision support",
    "sepsis",
    "diabetes prevention",
    "HIV prevention",
    "global surgery",
    "firearm injury prevention",
    "dementia caregiving",
    "adolescent mental health",
    "suicide prevention",
    "sleep and circadian rhythms",
    "microbiome",
    "immunotherapy",
    "precision oncology",
    "genomic medicine",
    "pragmatic trials",
    "mixed methods evaluation",
    "qualitative interviewing",
    "health services research",
    "value-based care",
    "disparities in stroke care",
    "asthma in children",
    "preterm birth",
    "obesity and nutrition",
    "physical activity",
    "aging and frailty",
    "palliative care communication",
    "shared decision making",
    "wearable sensors",
    "natural language processing",
    "electronic health records",
    "causal inference",
    "Bayesian methods",
    "cost-effectiveness analysis",
    "vaccine hesitancy",
    "tuberculosis",
    "malaria",
    "climate and health",
    "refugee health",
    "LGBTQ health",
    "Indigenous health",
    "language access",
    "burnout and wellbeing",
    "mentoring underrepresented scientists",
    "grant writing",
    "team science",
    "quality improvement in the ICU",
    "hospital readmissions",
    "chronic pain",
    "multiple sclerosis",
    "epilepsy",
    "Parkinson disease",
    "liver disease",
    "inflammatory bowel disease",
    "atrial fibrillation",
    "hypertension control",
    "breast cancer screening",
    "lung cancer screening",
    "colorectal cancer",
    "prostate cancer",
    "pediatric oncology",
    "congenital heart disease",
    "neonatal outcomes",
    "trauma-informed care",
    "violence prevention",
]
PLACES = words("""
Northfield Riverside Lakeside Westbrook Eastham Southport Hillcrest Fairview Greenville Oakridge
Maplewood Cedar Pinecrest Brookfield Springdale Clearwater Stonebridge Ashford Kingsley Milton
Harborview Redwood Silverton Granite Meadowbrook Summit Highland Valley Bayside Crestwood
Elmhurst Foxborough Glenwood Hampton Ironwood Juniper Kensington Lancaster Marlow Newbury
Oakland Preston Quincy Rockford Salem Thornton Union Vernon Waverly Yorktown Alder Birchwood
Carlisle Dover Easton Franklin Georgetown Hartford Irvington Jamestown Kendall Lincoln Madison
Norwood Orange Portland Richmond Sheffield Trenton Upton Victoria Windsor Arden Bristol Canton
Dayton Everett Fulton Garland Hudson
""")
INSTITUTION_PATTERNS = [
    "University of {}",
    "{} State University",
    "{} Medical College",
    "{} Children's Hospital",
    "{} University School of Medicine",
    "{} Institute of Technology",
]
TIME_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/Toronto",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Lagos",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Honolulu",
    "UTC",
]
ZONE_WEIGHTS = [34, 22, 8, 18, 3, 3, 2, 3, 2, 1, 1, 1, 1, 0.5, 0.5]
IDENTITY_VALUES = {
    "gender": ["woman", "man", "non-binary", "genderqueer", "transgender woman", "agender"],
    "race_ethnicity": [
        "Black",
        "African American",
        "Asian American",
        "Hispanic or Latina",
        "Latino",
        "White",
        "Middle Eastern",
        "Native Hawaiian",
        "American Indian",
        "multiracial",
    ],
    "first_generation": ["yes", "first-generation college graduate", "first in my family"],
    "family_structure": [
        "single parent",
        "two young children",
        "caregiver for a parent",
        "partnered, no children",
        "military family",
    ],
}


def zipf_weights(n: int, s: float = 0.7, shift: int = 8) -> list[float]:
    """Names repeat like real ones: a few common, a long tail."""
    return [1 / (rank + shift) ** s for rank in range(n)]


def picker(rng: random.Random, values: list, weights: list[float]):
    """A function that picks one of `values` by weight (cumulative weights computed once)."""
    cumulative = list(itertools.accumulate(weights))
    return lambda: rng.choices(values, cum_weights=cumulative)[0]


def copy_into(model, objs: list) -> None:
    """Insert model instances with COPY. bulk_create sends a VALUES list of 21 literals a
    profile that psycopg assembles in Python (Django 5.2 uses its faster UNNEST insert only
    for models without array fields): about 60 s for 100,000 profiles here, COPY a few."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objs:
            copy.write_row([getattr(obj, f.attname) for f in fields])


@contextlib.contextmanager
def indexes_built_after(model):
    """Drop `model`'s plain indexes (not those of constraints) and build them again from their
    own definitions at the end: one sort beats 100,000 insertions into GIN indexes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i"
            " WHERE i.schemaname = current_schema() AND i.tablename = %s AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [model._meta.db_table],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)


class People:
    """Seeded, realistic members: names repeat, some fields empty, a few profiles hidden."""

    def __init__(self, rng: random.Random, institutions: list) -> None:
        from directory.models import IDENTITY_FIELDS, CareerStage

        assert set(IDENTITY_FIELDS) == set(IDENTITY_VALUES)
        self.rng = rng
        self.institution = picker(rng, institutions, zipf_weights(len(institutions), 0.9, 5))
        self.first = picker(rng, FIRST, zipf_weights(len(FIRST)))
        self.last = picker(rng, LAST, zipf_weights(len(LAST)))
        self.zone = picker(rng, TIME_ZONES, ZONE_WEIGHTS)
        self.pronouns = picker(rng, PRONOUNS, PRONOUN_WEIGHTS)
        self.stage = picker(rng, [*CareerStage.values, ""], [15, 15, 40, 20, 6, 4])
        self.visibility = picker(rng, ["only_me", "suggestions", "members"], [5, 3, 2])
        self.methods = picker(rng, range(4), [2, 5, 4, 1])
        self.goals = picker(rng, range(4), [2, 4, 4, 2])

    def name(self) -> str:
        rng = self.rng
        surname = self.last() if rng.random() > 0.08 else f"{self.last()}-{self.last()}"
        middle = f" {rng.choice('ABCDEFGHJKLMNPRSTW')}." if rng.random() < 0.15 else ""
        return f"{self.first()}{middle} {surname}"

    def make(self, i: int):
        """The i-th member: (user, profile), neither saved."""
        from directory.models import GoalSought, Method, Profile
        from society.models import User

        rng, name = self.rng, self.name()
        user = User(
            email=f"member{i}@bench.example.org",
            password="!",
            full_name=name,
            institution=self.institution() if rng.random() < 0.93 else None,
            time_zone=self.zone(),
            is_active=rng.random() > 0.02,
        )
        identity = {}
        for field, values in IDENTITY_VALUES.items():
            if rng.random() < 0.45:
                identity[field] = rng.choice(values)
                identity[f"{field}_visibility"] = self.visibility()
        profile = Profile(
            user=user,
            name=name,
            institution=user.institution,
            time_zone=user.time_zone,
            pronouns=self.pronouns(),
            department=rng.choice(DEPARTMENTS),
            career_stage=self.stage(),
            specialty=rng.choice(SPECIALTIES).replace("-", " "),
            # Stored as profile_save stores them: sorted, no repeats.
            methods=sorted(rng.sample(Method.values, self.methods())),
            goals_sought=sorted(rng.sample(GoalSought.values, self.goals())),
            interests=", ".join(rng.sample(INTEREST_PHRASES, rng.randint(0, 3))),
            looking_for_group=rng.random() < 0.3,
            hidden=rng.random() < 0.05,
            **identity,
        )
        return user, profile


def build(n_profiles: int, rng: random.Random) -> dict:
    """Institutions, users and profiles with their search vectors; returns facts for searches."""
    from django.db.models import Count

    from directory.models import Profile
    from society.models import Institution, User

    names = [pattern.format(place) for pattern in INSTITUTION_PATTERNS for place in PLACES]
    rng.shuffle(names)
    institutions = Institution.objects.bulk_create(
        Institution(name=name) for name in names[: max(20, min(450, n_profiles // 200))]
    )
    people = People(rng, institutions)
    with indexes_built_after(Profile):
        for start in range(0, n_profiles, CHUNK):
            users, profiles = zip(
                *(people.make(i) for i in range(start, min(start + CHUNK, n_profiles))),
                strict=True,
            )
            User.objects.bulk_create(users)
            for profile in profiles:
                profile.user = profile.user  # now with its primary key
            copy_into(Profile, profiles)
        search_fill()
    biggest = (
        User.objects.filter(institution__isnull=False)
        .values_list("institution", flat=True)
        .annotate(n=Count("pk"))
        .order_by("-n", "institution")
    )
    names = list(Profile.objects.order_by("pk").values_list("name", flat=True)[:5000])
    return {"names": names, "institutions": list(biggest[:3])}


def search_fill() -> None:
    """Every profile's `search`, in one UPDATE: the tsvector directory.services.profile_save
    writes (profile_search_vector of _searchable_text), built from the same text in SQL."""
    from django.db import connection

    from directory.models import IDENTITY_FIELDS, GoalSought, Method, Profile, Visibility
    from society.models import Institution, User

    def labelled(column: str) -> str:
        # "code Label" for each known choice, in stored order, space-separated; NULL if none.
        return (
            f"(SELECT string_agg(x.code || ' ' || c.label, ' ' ORDER BY x.n)"
            f" FROM unnest(p.{column}) WITH ORDINALITY AS x(code, n)"
            f" JOIN unnest(%s::text[], %s::text[]) AS c(code, label) ON c.code = x.code)"
        )

    shown = ", ".join(
        f"CASE WHEN p.{name} <> '' AND p.{name}_visibility = %s THEN p.{name} END"
        for name in IDENTITY_FIELDS
    )
    sql = f"""
        UPDATE {Profile._meta.db_table} AS p SET search =
               setweight(to_tsvector('simple'::regconfig, t.names), 'A')
            || setweight(to_tsvector('english'::regconfig, t.prose), 'B')
            || setweight(to_tsvector('simple'::regconfig, t.prose), 'C')
            || setweight(to_tsvector('simple'::regconfig, t.codes), 'D')
        FROM (
            SELECT p.id,
                   concat_ws(' ', p.pronouns, {shown}) AS names,
                   concat_ws(' ', p.department, p.specialty, p.interests, coalesce(i.name, ''),
                             {labelled("methods")}, {labelled("goals_sought")}) AS prose,
                   concat_ws(' ', p.career_stage, u.time_zone) AS codes
            FROM {Profile._meta.db_table} AS p
            JOIN {User._meta.db_table} AS u ON u.id = p.user_id
            LEFT JOIN {Institution._meta.db_table} AS i ON i.id = u.institution_id
        ) AS t
        WHERE t.id = p.id
    """
    params = [Visibility.MEMBERS.value] * len(IDENTITY_FIELDS)
    for choices in (Method, GoalSought):
        params += [list(choices.values), [str(label) for label in choices.labels]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def verify(rng: random.Random) -> int:
    """profile_save on a few profiles writes exactly the search vector the load wrote."""
    from directory.models import Profile, Visibility
    from directory.services import profile_save

    profiles = Profile.objects.select_related("user__institution")
    picks = [
        profiles.filter(gender_visibility=Visibility.MEMBERS).exclude(gender="").first(),
        profiles.filter(user__institution__isnull=True).first(),
        profiles.exclude(methods=[]).exclude(goals_sought=[]).exclude(interests="").first(),
        profiles.filter(race_ethnicity_visibility=Visibility.SUGGESTIONS).first(),
        profiles.filter(pronouns="", career_stage="").first(),
    ]
    ids = list(profiles.values_list("pk", flat=True).order_by("pk"))
    picks += list(profiles.filter(pk__in=rng.sample(ids, min(5, len(ids)))))
    for profile in filter(None, picks):
        before = Profile.objects.values_list("search", flat=True).get(pk=profile.pk)
        profile_save(user=profile.user)
        after = Profile.objects.values_list("search", flat=True).get(pk=profile.pk)
        assert before and before == after, (profile.pk, before, after)
    return len(picks)


def transpose(word: str, rng: random.Random) -> str:
    """A typo: two neighbouring letters swapped in the second half of the word. (Swapping the
    2nd and 3rd letters of a six-letter name leaves too few trigrams in common to be found.)"""
    i = rng.randrange(len(word) // 2, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def searches(facts: dict, rng: random.Random) -> list[tuple[str, dict]]:
    """The representative set: (label, the search form's cleaned data as the view passes it)."""
    from directory.models import CareerStage, GoalSought, Method

    def form(**given: object) -> dict:
        data = {
            "q": "",
            "institution": None,
            "career_stage": "",
            "methods": [],
            "goals": [],
            "time_zone": "",
            "looking": False,
            "gender": "",
            "race_ethnicity": "",
            "first_generation": "",
            "family_structure": "",
            "page": 1,
        }
        data.update(given)
        return data

    surnames = [s for s in LAST if len(s) >= 5]
    common, rare = surnames[rng.randrange(0, 10)], surnames[rng.randrange(60, len(surnames))]
    plain = [n for n in facts["names"] if "." not in n and "-" not in n]
    return [
        ("surname typo (common)", form(q=transpose(common, rng))),
        ("surname typo (rare)", form(q=transpose(rare, rng))),
        ("full name", form(q=rng.choice(plain))),
        ("full name, lower case", form(q=rng.choice(plain).lower())),
        ("specialty word", form(q="cardiology")),
        ("specialty word 2", form(q=rng.choice(SPECIALTIES).split("-")[0])),
        ("interest phrase", form(q="health equity")),
        ("interest phrase 2", form(q=rng.choice(INTEREST_PHRASES))),
        (
            "method + career stage",
            form(methods=[rng.choice(Method.values)], career_stage=CareerStage.ASSISTANT.value),
        ),
        ("goals + looking", form(goals=[GoalSought.K_AWARD.value], looking=True)),
        ("institution + q", form(institution=facts["institutions"][0], q="pediatrics")),
        ("time zone", form(time_zone="America/Denver")),
        ("page 2 of a common query", form(q="medicine", page=2)),
    ]


def naive(data: dict) -> list:
    """What a first version would write: icontains over the text fields, ordered by name."""
    from django.db.models import Q

    from directory.models import Profile

    profiles = Profile.objects.filter(hidden=False)
    q = data["q"].strip()
    if q:
        profiles = profiles.filter(
            Q(name__icontains=q)
            | Q(department__icontains=q)
            | Q(specialty__icontains=q)
            | Q(interests__icontains=q)
        )
    if data["institution"]:
        profiles = profiles.filter(user__institution_id=data["institution"])
    if data["career_stage"]:
        profiles = profiles.filter(career_stage=data["career_stage"])
    if data["methods"]:
        profiles = profiles.filter(methods__contains=data["methods"])
    if data["goals"]:
        profiles = profiles.filter(goals_sought__contains=data["goals"])
    if data["time_zone"]:
        profiles = profiles.filter(user__time_zone=data["time_zone"])
    if data["looking"]:
        profiles = profiles.filter(looking_for_group=True)
    start = (data["page"] - 1) * 20
    return list(
        profiles.select_related("user__institution").order_by("name", "pk")[start : start + 21]
    )


def p95(values: list[float]) -> float:
    """Nearest rank: the smallest value at least 95% of the values are at or below."""
    return sorted(values)[math.ceil(len(values) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds of the whole set")
    parser.add_argument("--database", default="horizontal_directory_bench")
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch database (to EXPLAIN searches)"
    )
    args = parser.parse_args()

    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    maintenance = scratch_database(args.database)
    import django

    django.setup()
    import psycopg
    from django.core.management import call_command
    from django.db import connection

    from directory.models import Profile
    from directory.selectors import profile_search
    from society.models import Institution, User

    try:
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        rng = random.Random(SEED)
        start = time.perf_counter()
        facts = build(args.profiles, rng)
        loaded = time.perf_counter() - start
        checked = verify(rng)
        start = time.perf_counter()
        with connection.cursor() as cursor:
            # VACUUM as well as ANALYZE: the autovacuum the load would trigger must not run
            # while we time, and index-only scans want the visibility map.
            for model in (Institution, User, Profile):
                cursor.execute(f'VACUUM (ANALYZE) "{model._meta.db_table}"')
        analyzed = time.perf_counter() - start
        visible = Profile.objects.filter(hidden=False, user__is_active=True).count()
        print(
            f"profiles {args.profiles} ({visible} visible), institutions "
            f"{Institution.objects.count()}; loaded in {loaded:.1f} s, vacuum analyze "
            f"{analyzed:.1f} s; search vectors of {checked} profiles equal profile_save's"
        )

        viewer = User.objects.filter(is_active=True).order_by("pk").first()
        chosen = searches(facts, rng)

        def ours(data: dict) -> list:
            given = {k: v for k, v in data.items() if k != "page"}
            return profile_search(viewer=viewer, page=data["page"], **given).profiles

        # A warm-up round, which also counts the rows each shows on its page.
        rows = {label: (len(ours(data)), len(naive(data)[:20])) for label, data in chosen}
        times: dict[str, dict[str, list[float]]] = {
            label: {"ours": [], "icontains": []} for label, _ in chosen
        }
        for i in range(args.rounds):
            for label, data in chosen:
                order = [("ours", ours), ("icontains", naive)]
                if i % 2:
                    order.reverse()
                for kind, run in order:
                    start = time.perf_counter()
                    run(data)
                    times[label][kind].append((time.perf_counter() - start) * 1000)
    finally:
        connection.close()
        if not args.keep:
            with psycopg.connect(maintenance, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')

    width = max(len(label) for label in times)
    print(f"{args.rounds} rounds of {len(chosen)} searches; p50 / p95 in ms, rows on the page")
    for (label, data), (mine, theirs) in zip(chosen, rows.values(), strict=True):
        t = times[label]
        shown = {k: v for k, v in data.items() if v and not (k == "page" and v == 1)}
        print(
            f"  {label:<{width}}  ours {statistics.median(t['ours']):6.1f} / {p95(t['ours']):6.1f}"
            f" ({mine:2})   icontains {statistics.median(t['icontains']):6.1f} / "
            f"{p95(t['icontains']):6.1f} ({theirs:2})   {shown}"
        )
    all_ours = [v for t in times.values() for v in t["ours"]]
    all_naive = [v for t in times.values() for v in t["icontains"]]
    ratio = p95(all_naive) / p95(all_ours)
    print(
        f"directory: p50 {statistics.median(all_ours):.1f} ms, p95 {p95(all_ours):.1f} ms, "
        f"icontains p95 {p95(all_naive):.0f} ms, ratio {ratio:.1f}"
    )


if __name__ == "__main__":
    main()
