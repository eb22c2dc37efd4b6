"""Geography of the simulated carrier: provinces, cities, counties and radio cells.

Names are real Chinese administrative units (the Sichuan contest's ``city_name`` and
``county_name`` are Chinese names); the share of subscribers per city is an assumption for a
Sichuan-based carrier with subscribers roaming in, and working from, neighbouring provinces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from telewarden.core.records import CELLS_SCHEMA

__all__ = ["CITIES", "City", "Cells", "build_cells"]


@dataclass(frozen=True, slots=True)
class City:
    """A city of the simulated carrier's footprint.

    Attributes
    ----------
    province, name : str
        Chinese names, as the contest tables write them.
    code : str
        Six-digit administrative code of the city.
    counties : tuple[tuple[str, str], ...]
        (county code, county name) pairs; cells are spread over them.
    share : float
        Share of subscribers living here (assumption, normalised over all cities).
    lat, lon : float
        City centre.
    """

    province: str
    name: str
    code: str
    counties: tuple[tuple[str, str], ...]
    share: float
    lat: float
    lon: float


CITIES: tuple[City, ...] = (
    City(
        "四川",
        "成都",
        "510100",
        (
            ("510104", "锦江区"),
            ("510105", "青羊区"),
            ("510106", "金牛区"),
            ("510107", "武侯区"),
            ("510108", "成华区"),
            ("510116", "双流区"),
        ),
        0.42,
        30.66,
        104.07,
    ),
    City(
        "四川", "绵阳", "510700", (("510703", "涪城区"), ("510704", "游仙区")), 0.09, 31.47, 104.68
    ),
    City(
        "四川", "南充", "511300", (("511302", "顺庆区"), ("511303", "高坪区")), 0.09, 30.84, 106.11
    ),
    City("四川", "乐山", "511100", (("511102", "市中区"),), 0.06, 29.55, 103.77),
    City(
        "重庆",
        "重庆",
        "500100",
        (("500103", "渝中区"), ("500105", "江北区"), ("500112", "渝北区")),
        0.12,
        29.56,
        106.55,
    ),
    City(
        "广东", "广州", "440100", (("440104", "越秀区"), ("440106", "天河区")), 0.08, 23.13, 113.26
    ),
    City(
        "广东", "深圳", "440300", (("440304", "福田区"), ("440305", "南山区")), 0.08, 22.54, 114.06
    ),
    City(
        "云南", "昆明", "530100", (("530102", "五华区"), ("530103", "盘龙区")), 0.06, 25.04, 102.71
    ),
)
"""The footprint: four provinces, eight cities."""


@dataclass(frozen=True, slots=True)
class Cells:
    """Radio cells, indexed 0..n-1, grouped by city.

    Attributes
    ----------
    ids : pl.Series
        ``cell_id`` strings (``"<county code>-<nnnn>"``).
    city : np.ndarray
        City index (into ``CITIES``) of each cell.
    city_start, city_count : np.ndarray
        Cells of city ``c`` are ``city_start[c] .. city_start[c] + city_count[c] - 1``.
    frame : pl.DataFrame
        The ``cells`` table (``CELLS_SCHEMA``).
    """

    ids: pl.Series
    city: npt.NDArray[Any]
    city_start: npt.NDArray[Any]
    city_count: npt.NDArray[Any]
    frame: pl.DataFrame

    def random_in_city(self, rng: np.random.Generator, city: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Return one uniformly drawn cell index in each given city."""
        u = rng.random(city.shape[0])
        picked: npt.NDArray[Any] = self.city_start[city] + (u * self.city_count[city]).astype(
            np.int64
        )
        return picked.astype(np.int32)


def build_cells(rng: np.random.Generator, subscribers_per_city: npt.NDArray[Any]) -> Cells:
    """Lay out cells: about one per 250 subscribers (assumption), at least 6 per city.

    Examples
    --------
    >>> cells = build_cells(np.random.default_rng(0), np.full(len(CITIES), 1000))
    >>> int(cells.city_count.min()) >= 6 and cells.frame.height == int(cells.city_count.sum())
    True
    """
    counts = np.maximum(6, subscribers_per_city // 250).astype(np.int64)
    ids: list[str] = []
    provinces: list[str] = []
    cities: list[str] = []
    counties: list[str] = []
    lats: list[float] = []
    lons: list[float] = []
    city_idx: list[int] = []
    for c, (city, n) in enumerate(zip(CITIES, counts, strict=True)):
        county = rng.integers(0, len(city.counties), int(n))
        lat = city.lat + rng.normal(0.0, 0.05, int(n))
        lon = city.lon + rng.normal(0.0, 0.05, int(n))
        for k in range(int(n)):
            code, cname = city.counties[int(county[k])]
            ids.append(f"{code}-{k:04d}")
            provinces.append(city.province)
            cities.append(city.name)
            counties.append(cname)
            lats.append(round(float(lat[k]), 5))
            lons.append(round(float(lon[k]), 5))
            city_idx.append(c)
    frame = pl.DataFrame(
        {
            "cell_id": ids,
            "province": provinces,
            "city": cities,
            "county": counties,
            "lat": lats,
            "lon": lons,
        },
        schema=CELLS_SCHEMA,
    )
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return Cells(
        ids=frame["cell_id"],
        city=np.asarray(city_idx, dtype=np.int32),
        city_start=start.astype(np.int64),
        city_count=counts,
        frame=frame,
    )
