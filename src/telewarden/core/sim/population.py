"""The subscriber population, the number directory, and the social graph.

Everything the traffic generators look up by index lives here, built once per simulation from
the seed. Nodes of the number directory are integers: subscribers first (ordinary subscribers,
then fraud cards), then off-net domestic numbers, international contacts, service numbers,
and each campaign's foreign numbers. Strings are made only when a chunk becomes a DataFrame.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from telewarden.core.records import SUBSCRIBERS_SCHEMA
from telewarden.core.sim.geo import CITIES, Cells, build_cells
from telewarden.core.sim.numbers import (
    OFF_NET_PREFIXES,
    ON_NET_PREFIXES,
    imeis,
    imsis,
    international_numbers,
    mobile_numbers,
    prefixed,
)

__all__ = [
    "EDGE_WEIGHT",
    "HANDSET_TACS",
    "INTL_FAMILY_REGIONS",
    "HKMOTW_REGIONS",
    "Directory",
    "Graph",
    "Kind",
    "Subscribers",
    "build_graph",
    "build_subscribers",
    "draw_external",
    "finish_frame",
    "id_hash",
    "to_us",
]

HANDSET_TACS: tuple[int, ...] = (35328011, 35391111, 86012345, 86754203, 35674108, 86891104)
"""Type allocation codes used for ordinary handsets (illustrative values; assumption)."""

GATEWAY_TAC: int = 86262102
"""TAC written for GoIP/SIM-bank gateways (illustrative; real racks report modem TACs, S12)."""

INTL_FAMILY_REGIONS: tuple[str, ...] = ("US", "CA", "GB", "AU", "JP", "SG", "MY")
HKMOTW_REGIONS: tuple[str, ...] = ("HK", "MO", "TW")

PLANS: tuple[tuple[str, float, float], ...] = (
    ("神州行18", 18.0, 0.15),
    ("4G畅享58", 58.0, 0.35),
    ("5G智享128", 128.0, 0.3),
    ("5G尊享198", 198.0, 0.12),
    ("全球通288", 288.0, 0.08),
)
"""(plan, monthly fee in yuan, share): an assumption loosely modelled on public tariffs."""


class Kind:
    """Integer codes of contact kinds in the social graph (and of their call behaviour)."""

    FAMILY = 0
    WORK = 1
    FRIEND = 2
    OFF_NET = 3
    INTL = 4


EDGE_WEIGHT = np.array([5.0, 2.0, 1.0, 1.0, 5.0], dtype=np.float64)
"""Relative chance of calling a contact of each kind (assumption; see docs/simulator.md)."""


def to_us(at: dt.datetime) -> int:
    """Microseconds since the Unix epoch of a UTC-aware datetime."""
    return int(round(at.timestamp() * 1_000_000))


def id_hash(values: npt.NDArray[Any], salt: int) -> pl.Series:
    """Stable pseudonymous hash strings (splitmix64) of integer ids.

    Examples
    --------
    >>> id_hash(np.array([1, 2]), 0).str.len_chars().to_list()
    [16, 16]
    """
    with np.errstate(over="ignore"):
        x = values.astype(np.uint64) + np.uint64(salt + 1) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    hi = (x >> np.uint64(32)).astype(np.int64)
    lo = (x & np.uint64(0xFFFFFFFF)).astype(np.int64)
    return pl.select(
        pl.concat_str(
            [
                pl.Series(hi).cast(pl.String).str.zfill(10).str.slice(2, 8),
                pl.Series(lo).cast(pl.String).str.zfill(10).str.slice(2, 8),
            ]
        )
    ).to_series()


@dataclass(slots=True)
class Directory:
    """All numbers the simulation uses, as one string column indexed by node id."""

    parts: list[pl.Series]
    size: int = 0

    def add(self, numbers: pl.Series) -> npt.NDArray[Any]:
        """Append numbers; return their node ids."""
        ids = np.arange(self.size, self.size + numbers.len(), dtype=np.int64)
        self.parts.append(numbers.cast(pl.String))
        self.size += numbers.len()
        return ids

    def series(self) -> pl.Series:
        """The whole directory (node id -> number string)."""
        return pl.concat(self.parts, rechunk=True) if self.parts else pl.Series([], dtype=pl.String)


@dataclass(slots=True)
class Subscribers:
    """Per-subscriber arrays (index = node id of the subscriber)."""

    n: int
    n_ordinary: int
    city: npt.NDArray[Any]  # int16, index into CITIES
    home_cell: npt.NDArray[Any]  # int32
    work_cell: npt.NDArray[Any]  # int32
    commuter: npt.NDArray[Any]  # bool
    roam_cell: npt.NDArray[Any]  # int32, -1 when at home
    activity: npt.NDArray[Any]  # float64, mean 1 over ordinary subscribers, 0 for fraud cards
    data_activity: npt.NDArray[Any]  # float64
    susceptibility: npt.NDArray[Any]  # float64, scales fraud answer/hook probabilities
    role: npt.NDArray[Any]  # int8: 0 ordinary, 1 courier, 2 sales, 3 fraud card
    bank: npt.NDArray[Any]  # int8, index into BANK_PORTS, -1 none
    imei0: npt.NDArray[Any]  # int64 index into the IMEI directory
    imei1: npt.NDArray[Any]  # int64, handset after a change, -1 none
    change_us: npt.NDArray[Any]  # int64, when the handset changes (max int when never)
    by_number: npt.NDArray[Any]  # node ids sorted by msisdn (sequential dialling)
    msisdn: pl.Series
    doc: npt.NDArray[Any]  # int64 identity-document number (hashed on output)
    activated_us: npt.NDArray[Any]  # int64
    plan: npt.NDArray[Any]  # int64 index into PLANS
    outlet: npt.NDArray[Any]  # int64 sales-outlet number
    arpu: npt.NDArray[Any]  # float64 yuan per month


ROLE_ORDINARY, ROLE_COURIER, ROLE_SALES, ROLE_FRAUD = 0, 1, 2, 3


def build_subscribers(
    rng: np.random.Generator,
    n_ordinary: int,
    fraud_cards: int,
    start_us: int,
    hours: int,
    roamer_p: float,
    handset_change_p: float,
    courier_p: float,
    sales_p: float,
    directory: Directory,
    imei_parts: list[pl.Series],
) -> tuple[Subscribers, Cells, pl.Series]:
    """Draw ordinary subscribers (grouped by city) and reserve rows for fraud cards.

    Fraud cards get placeholder attributes here; campaigns overwrite them (activation, outlet,
    ID document, device, cell) and the frame is rebuilt by ``finish_frame``.
    Returns the subscribers, the cells and the IMSI column.
    """
    n = n_ordinary + fraud_cards
    shares = np.array([c.share for c in CITIES])
    shares = shares / shares.sum()
    counts = np.floor(shares * n_ordinary).astype(np.int64)
    counts[0] += n_ordinary - counts.sum()
    city = np.repeat(np.arange(len(CITIES), dtype=np.int16), counts)
    # fraud cards are registered in the home province's capital (assumption); campaigns move them
    city = np.concatenate([city, np.zeros(fraud_cards, dtype=np.int16)])
    cells = build_cells(rng, np.bincount(city, minlength=len(CITIES)))

    home = cells.random_in_city(rng, city)
    work = cells.random_in_city(rng, city)
    commuter = rng.random(n) < 0.6
    roam_cell = np.full(n, -1, dtype=np.int32)
    roamer = np.flatnonzero(rng.random(n_ordinary) < roamer_p)
    away = (city[roamer] + rng.integers(1, len(CITIES), roamer.shape[0])) % len(CITIES)
    roam_cell[roamer] = cells.random_in_city(rng, away.astype(np.int16))

    activity = rng.lognormal(0.0, 0.9, n)
    activity /= activity[:n_ordinary].mean()
    activity[n_ordinary:] = 0.0
    data_activity = rng.lognormal(0.0, 0.8, n)
    data_activity /= data_activity[:n_ordinary].mean()
    susceptibility = rng.lognormal(0.0, 0.5, n)

    role = np.zeros(n, dtype=np.int8)
    u = rng.random(n_ordinary)
    role[:n_ordinary][u < courier_p] = ROLE_COURIER
    role[:n_ordinary][(u >= courier_p) & (u < courier_p + sales_p)] = ROLE_SALES
    role[n_ordinary:] = ROLE_FRAUD
    bank = np.where(rng.random(n) < 0.5, rng.integers(0, 4, n), -1).astype(np.int8)
    bank[n_ordinary:] = -1

    numbers = mobile_numbers(rng, n, ON_NET_PREFIXES)
    msisdn = prefixed(numbers, "+86")
    directory.add(msisdn)
    by_number = np.argsort(numbers, kind="stable")

    handsets = imeis(rng, n + n // 50 + 1, HANDSET_TACS)
    imei_parts.append(handsets)
    imei0 = np.arange(n, dtype=np.int64)
    imei1 = np.full(n, -1, dtype=np.int64)
    changer = np.flatnonzero(rng.random(n_ordinary) < handset_change_p)[: n // 50 + 1]
    imei1[changer] = n + np.arange(changer.shape[0])
    change_us = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    change_us[changer] = start_us + rng.integers(0, hours * 3_600_000_000, changer.shape[0])
    imsi = imsis(rng, n)

    # ID documents: most people one card; some families register two or three on one ID;
    # a few people hold many (assumption; S16 "一证多卡" is the fraud-side extreme).
    doc = np.arange(n, dtype=np.int64)
    share = np.flatnonzero(rng.random(n_ordinary) < 0.08)
    doc[share] = np.maximum(share - rng.integers(1, 3, share.shape[0]), 0)
    # and a few documents hold many cards: firms registering staff lines (assumption)
    n_firms = max(1, n_ordinary // 2000)
    staff = rng.permutation(n_ordinary)[: min(n_ordinary, n_firms * 15)]
    doc[staff] = 2 * n + rng.integers(0, n_firms, staff.shape[0])
    age_days = np.minimum(rng.lognormal(np.log(3 * 365.0), 0.9, n), 15 * 365.0)
    # some ordinary cards are new too, so "new card" alone does not mean fraud (S15)
    fresh = rng.random(n) < 0.005
    age_days = np.where(fresh, rng.uniform(0.1, 30.0, n), age_days)
    activated_us = (start_us - age_days * 86_400e6).astype(np.int64)
    plan_idx = rng.choice(len(PLANS), n, p=np.array([p[2] for p in PLANS]))
    fee = np.array([p[1] for p in PLANS])[plan_idx]
    arpu = np.round(fee * rng.lognormal(0.0, 0.2, n), 2)
    outlet = city.astype(np.int64) * 100 + rng.integers(0, 20, n)

    subs = Subscribers(
        n=n,
        n_ordinary=n_ordinary,
        city=city,
        home_cell=home,
        work_cell=work,
        commuter=commuter,
        roam_cell=roam_cell,
        activity=activity,
        data_activity=data_activity,
        susceptibility=susceptibility,
        role=role,
        bank=bank,
        imei0=imei0,
        imei1=imei1,
        change_us=change_us,
        by_number=by_number,
        msisdn=msisdn,
        doc=doc,
        activated_us=activated_us,
        plan=plan_idx.astype(np.int64),
        outlet=outlet,
        arpu=arpu,
    )
    return subs, cells, imsi


def finish_frame(
    subs: Subscribers, cells: Cells, imsi: pl.Series, imei_directory: pl.Series
) -> pl.DataFrame:
    """The ``subscribers`` table, after campaigns have set up their cards."""
    cell_frame = cells.frame
    home = pl.Series(subs.home_cell.astype(np.int64))
    outlet_names = "outlet-" + pl.Series(subs.outlet).cast(pl.String).str.zfill(4)
    return pl.DataFrame(
        {
            "msisdn": subs.msisdn,
            "id_doc_hash": id_hash(subs.doc, 11),
            "activated_at": pl.Series(subs.activated_us).cast(pl.Datetime("us", "UTC")),
            "province": cell_frame["province"].gather(home),
            "city": cell_frame["city"].gather(home),
            "county": cell_frame["county"].gather(home),
            "plan": pl.Series([p[0] for p in PLANS]).gather(pl.Series(subs.plan)),
            "sales_outlet": outlet_names,
            "imsi": imsi,
            "imei": imei_directory.gather(pl.Series(subs.imei0)),
            "home_cell_id": cells.ids.gather(home),
            "arpu_cny": subs.arpu,
        },
        schema=SUBSCRIBERS_SCHEMA,
    )


@dataclass(slots=True)
class Graph:
    """Contacts of each subscriber, in CSR form: ``nbr[indptr[i]:indptr[i+1]]``."""

    indptr: npt.NDArray[Any]  # int64, length n + 1
    nbr: npt.NDArray[Any]  # int64 node ids
    kind: npt.NDArray[Any]  # int8 Kind codes

    def degree(self) -> npt.NDArray[Any]:
        """Number of contacts per subscriber."""
        return np.diff(self.indptr)


def _group_pairs(
    rng: np.random.Generator,
    order: npt.NDArray[Any],
    sizes: npt.NDArray[Any],
    per_member: npt.NDArray[Any] | None,
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Pairs inside consecutive groups of ``order`` cut by ``sizes``.

    With ``per_member`` None every member links to every other; otherwise each member links to
    that many random others in its group.
    """
    n = order.shape[0]
    ends = np.cumsum(sizes)
    ends = ends[ends <= n]
    starts = np.concatenate([[0], ends[:-1]])
    sizes = ends - starts
    group = np.repeat(np.arange(sizes.shape[0]), sizes)
    pos = np.arange(group.shape[0]) - starts[group]
    size = sizes[group]
    k = size - 1 if per_member is None else np.minimum(per_member[: group.shape[0]], size - 1)
    src = np.repeat(np.arange(group.shape[0]), k)
    if per_member is None:
        j = np.arange(src.shape[0]) - np.repeat(np.cumsum(k) - k, k)
        other = j + (j >= pos[src])
    else:
        other = (pos[src] + 1 + rng.integers(0, np.maximum(size[src] - 1, 1))) % size[src]
    dst = starts[group[src]] + other
    keep = dst != src
    return order[src[keep]], order[dst[keep]]


def build_graph(
    rng: np.random.Generator,
    subs: Subscribers,
    off_net: npt.NDArray[Any],
    intl_family: npt.NDArray[Any],
    intl_business: npt.NDArray[Any],
    intl_contact_p: float,
    business_p: float,
) -> tuple[Graph, npt.NDArray[Any]]:
    """Families, workplaces, friends, off-net and international contacts of ordinary subscribers.

    Returns the graph and the subscribers who have international contacts.
    Degree is heavy-tailed: friend out-degree is log-normal and friend targets are drawn with a
    popularity skew, so a few subscribers collect many contacts (Sichuan ``edges.csv`` and
    every call graph studied show such tails; parameters are assumptions).
    """
    n_ord = subs.n_ordinary
    city = subs.city[:n_ord]
    city_start = np.searchsorted(city, np.arange(len(CITIES)))
    city_count = np.bincount(city, minlength=len(CITIES))

    def within_city_perm() -> npt.NDArray[Any]:
        key = city.astype(np.int64) * (n_ord + 1) + rng.permutation(n_ord)
        return np.argsort(key, kind="stable")

    # households of 1-5 (assumption close to China's 2020 census mean household size 2.6)
    fam_sizes = rng.choice(np.arange(1, 6), n_ord, p=[0.25, 0.3, 0.25, 0.15, 0.05])
    fa, fb = _group_pairs(rng, within_city_perm(), fam_sizes, None)
    # workplaces: log-normal size, each member calls a few colleagues
    work_sizes = np.maximum(2, rng.lognormal(np.log(12.0), 1.0, n_ord).astype(np.int64))
    wa, wb = _group_pairs(rng, within_city_perm(), work_sizes, rng.poisson(3.0, n_ord) + 1)
    # friends: heavy-tailed out-degree, popularity-skewed targets, 85 % in the same city
    deg = np.minimum(rng.lognormal(np.log(3.0), 1.0, n_ord).astype(np.int64), 500)
    ra = np.repeat(np.arange(n_ord), deg)
    pop_perm = within_city_perm()
    u = rng.random(ra.shape[0])
    u = u * u * np.sqrt(u)  # u ** 2.5, several times faster than a float power
    same = rng.random(ra.shape[0]) < 0.85
    c = city[ra]
    local = pop_perm[city_start[c] + (u * city_count[c]).astype(np.int64)]
    anywhere = pop_perm[(u * n_ord).astype(np.int64) % n_ord]
    rb = np.where(same, local, anywhere)

    a = np.concatenate([fa, wa, ra])
    b = np.concatenate([fb, wb, rb])
    k = np.concatenate(
        [
            np.full(fa.shape[0], Kind.FAMILY, np.int8),
            np.full(wa.shape[0], Kind.WORK, np.int8),
            np.full(ra.shape[0], Kind.FRIEND, np.int8),
        ]
    )
    keep = a != b
    a, b, k = a[keep], b[keep], k[keep]
    a, b, k = np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([k, k])

    # off-net contacts: other carriers' customers, shared across subscribers with a skew
    n_off = np.minimum(rng.poisson(2.5, n_ord), 40)
    oa = np.repeat(np.arange(n_ord), n_off)
    v = rng.random(oa.shape[0])
    ob = off_net[(v * np.sqrt(v) * off_net.shape[0]).astype(np.int64)]
    # international contacts: family abroad, or business in Hong Kong, Macao, Taiwan
    fam_abroad = np.flatnonzero(rng.random(n_ord) < intl_contact_p)
    business = np.flatnonzero(rng.random(n_ord) < business_p)
    ia = np.concatenate([fam_abroad, business])
    ib = np.concatenate(
        [
            intl_family[rng.integers(0, intl_family.shape[0], fam_abroad.shape[0])],
            intl_business[rng.integers(0, intl_business.shape[0], business.shape[0])],
        ]
    )
    a = np.concatenate([a, oa, ia])
    b = np.concatenate([b, ob, ib])
    k = np.concatenate(
        [k, np.full(oa.shape[0], Kind.OFF_NET, np.int8), np.full(ia.shape[0], Kind.INTL, np.int8)]
    )
    # dedupe (a, b) keeping the strongest kind (lowest code): one packed int64 sort, which
    # also leaves the edges grouped by a for the CSR layout (node ids stay below 2**28)
    packed = (a.astype(np.int64) << 34) | (b.astype(np.int64) << 3) | k.astype(np.int64)
    del a, b, k
    packed.sort()
    pair = packed >> 3
    first = np.ones(packed.shape[0], dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    packed = packed[first]
    del pair, first
    a = packed >> 34
    b = (packed >> 3) & ((1 << 31) - 1)
    k = (packed & 7).astype(np.int8)
    indptr = np.zeros(subs.n + 1, dtype=np.int64)
    np.cumsum(np.bincount(a, minlength=subs.n), out=indptr[1:])
    return Graph(indptr=indptr, nbr=b, kind=k), np.unique(ia)


def draw_external(
    rng: np.random.Generator, n_sub: int, directory: Directory
) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
    """Off-net domestic pool, family-abroad and HK/MO/TW business numbers (node ids)."""
    off = mobile_numbers(rng, max(50, int(n_sub * 0.6)), OFF_NET_PREFIXES)
    off_ids = directory.add(prefixed(off, "+86"))
    # pools are shared: many families call the same few thousand numbers abroad (assumption)
    fam = international_numbers(rng, max(20, min(3000, n_sub // 30)), INTL_FAMILY_REGIONS)
    fam_ids = directory.add(fam)
    bus = international_numbers(rng, max(10, min(1000, n_sub // 100)), HKMOTW_REGIONS)
    bus_ids = directory.add(bus)
    return off_ids, fam_ids, bus_ids
