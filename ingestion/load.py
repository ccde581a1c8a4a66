"""The load of one source table: read -> clean -> duplicates -> validate the text (pandera) ->
parse -> resolve areas -> orphans -> validate the values (pandera) -> pseudonymise -> split into
valid and quarantined rows -> write both atomically -> return the reconciliation.

Every row read ends in exactly one place: `lake/validated`, `lake/quarantine` (with its reason
codes, columns, values and the original row) or the count of exact duplicates, and the load
records `read = valid + quarantined + duplicates` in `lake/loads/<source>/<table>.json`.
A table-level problem raises `SourceError` before anything is written, so the last good load stays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import shapely

import geothai
from ingestion import areas as area_mod
from ingestion import normalise, pseudonym, readers
from ingestion.lake import table_dir, write_table_atomic
from ingestion.readers import LOAD_ID, SOURCE_FILE, SOURCE_ROW, RawTable, SourceError
from schemas import base
from schemas.base import TableSpec

REPAIRS = "_repairs"
QUARANTINE_COLUMNS = [SOURCE_FILE, SOURCE_ROW, LOAD_ID, "row_key", "reason_codes", "columns",
                      "values", "message", "original_row"]
# The order repair codes are listed in `_repairs` (docs/lake.md).
REPAIR_ORDER = (normalise.THAI_DIGITS, normalise.THOUSANDS_SEPARATOR, normalise.BE_CE_YEAR,
                normalise.AREA_NAME_NORMALISED, area_mod.AREA_FROM_NAMES,
                area_mod.AREA_ABOLISHED_SUCCESSOR, area_mod.LAT_LON_SWAPPED, area_mod.AREA_FROM_POINT)


@dataclass
class Reconciliation:
    """What one load did; written to `lake/loads/<source>/<table>.json` and shown as metadata."""

    source: str
    table: str
    load_id: str
    loaded_at: str
    files: dict[str, str]
    rows_read: int
    valid: int
    quarantined: int
    duplicates: int
    reasons: dict[str, int] = field(default_factory=dict)
    repairs: dict[str, int] = field(default_factory=dict)
    area_resolution: dict[str, int] = field(default_factory=dict)
    validated_path: str = ""
    quarantine_path: str = ""
    seconds: float = 0.0

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.valid + self.quarantined + self.duplicates

    @property
    def quarantined_share(self) -> float:
        return self.quarantined / self.rows_read if self.rows_read else 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def loads_path(lake_dir: Path, source: str, table: str) -> Path:
    return Path(lake_dir) / "loads" / source / f"{table}.json"


def read_reconciliation(lake_dir: Path, source: str, table: str) -> Reconciliation | None:
    path = loads_path(lake_dir, source, table)
    if not path.exists():
        return None
    return Reconciliation(**json.loads(path.read_text(encoding="utf-8")))


# -- reading -------------------------------------------------------------------------------------

def source_files(spec: TableSpec, sources_dir: Path) -> list[Path]:
    files = sorted(p for p in Path(sources_dir).glob(spec.pattern) if p.is_file())
    if not files:
        raise SourceError(f"no file matches {spec.pattern} in {sources_dir}", file=spec.pattern,
                          table=spec.name)
    return files


def _derive(spec: TableSpec, frame: pd.DataFrame, rel: str) -> pd.DataFrame:
    """Columns a table takes from its file's name (docs/lake.md)."""
    for column, how in spec.derived.items():
        if how == "fiscal_year_from_file_name":
            found = re.search(r"FY(\d{4})", Path(rel).name)
            if not found:
                raise SourceError("the file name has no fiscal year (funds_FY<BE year>.xlsx)",
                                  file=rel, table=spec.name)
            year = int(found.group(1))
            if year < normalise.BE_MIN_YEAR:
                raise SourceError(f"the file name's fiscal year {year} is not a BE year",
                                  file=rel, table=spec.name)
            frame[column] = pd.Series(str(year), index=frame.index, dtype="str")
        elif how == "province_code_from_file_name":
            code = Path(rel).stem
            if not re.fullmatch(r"\d{2}", code) or geothai.province(code) is None:
                raise SourceError(f"the file name {Path(rel).name} is not a current DOPA province "
                                  "code (members/<province code>.csv)", file=rel, table=spec.name)
            frame[column] = pd.Series(code, index=frame.index, dtype="str")
    return frame


def read_source(spec: TableSpec, sources_dir: Path) -> RawTable:
    """Every file of a table, read with its format's reader, as one RawTable."""
    frames, malformed, files = [], [], {}
    names = [c.source_name for c in spec.columns]
    for path in source_files(spec, sources_dir):
        rel = path.relative_to(sources_dir).as_posix()
        if spec.format == "sqlite":
            raw = readers.read_sqlite(path, rel, spec.sqlite_table, names, table=spec.name)
        elif spec.format == "xlsx":
            raw = readers.read_workbook(path, rel, {c.source_name: c.name for c in spec.columns},
                                        table=spec.name)
        elif spec.format == "csv":
            raw = readers.read_csv(path, rel, names, table=spec.name, encoding=spec.encoding)
        elif spec.format == "ndjson":
            raw = readers.read_ndjson(path, rel, names, table=spec.name)
        elif spec.format == "geojson":
            raw = readers.read_geojson(path, rel, names, table=spec.name)
        else:
            raise ValueError(f"unknown format {spec.format}")
        frames.append(_derive(spec, raw.frame, rel))
        if not raw.malformed.empty:
            malformed.append(raw.malformed)
        files.update(raw.files)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    bad = pd.concat(malformed, ignore_index=True) if malformed else readers.empty_malformed()
    if frame.empty and bad.empty:
        raise SourceError("no data rows", file=", ".join(files) or spec.pattern, table=spec.name)
    return RawTable(frame, bad, files)


def load_id_for(files: dict[str, str], now: dt.datetime) -> str:
    """`<UTC timestamp>-<8 hex>`: the file's sha256, or for a table of several files the sha256
    of their sorted `path sha256` lines (so any changed file changes the id)."""
    if len(files) == 1:
        digest = next(iter(files.values()))
    else:
        lines = "".join(f"{p} {h}\n" for p, h in sorted(files.items()))
        digest = hashlib.sha256(lines.encode("utf-8")).hexdigest()
    return f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{digest[:8]}"


# -- failures ------------------------------------------------------------------------------------

class Failures:
    """The row-level failures of a load: (row position, reason code, column, value, detail)."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(self, rows, code, column, values=None, detail=None) -> None:
        rows = np.asarray(rows)
        if rows.size == 0:
            return
        n = rows.size

        def col(v):
            if v is None or np.isscalar(v):
                return [v] * n
            return list(v)

        self.parts.append(pd.DataFrame({"row": rows.astype("int64"), "code": col(code),
                                        "column": col(column), "value": col(values),
                                        "detail": col(detail)}))

    def add_mask(self, mask: pd.Series, code, column, values=None, detail=None) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        take = lambda v: v[mask] if isinstance(v, pd.Series) else v  # noqa: E731
        self.add(np.flatnonzero(mask.to_numpy()), take(code), take(column), take(values), take(detail))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["row", "code", "column", "value", "detail"])
        return pd.concat(self.parts, ignore_index=True)


def run_schema(schema: pa.DataFrameSchema, frame: pd.DataFrame, failures: Failures,
               text: pd.DataFrame) -> None:
    """Validate lazily and record each failed row with the check's reason code. Values are
    taken from the cleaned text, so the quarantine shows what the source said."""
    try:
        schema.validate(frame, lazy=True)
        return
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    for (context, column, number), group in cases.groupby(
            ["schema_context", "column", "check_number"], dropna=False, sort=False):
        if group["index"].isna().all():
            # A failure of the whole column (a dtype, a missing column) is our bug, not the data's.
            raise RuntimeError(f"{schema.name}: {column}: {group['check'].iloc[0]}")
        if context == "DataFrameSchema":
            check = schema.checks[int(number)]
            blamed = getattr(check, "blamed_columns", ()) or (column,)
            if column not in blamed:
                continue
        else:
            check = schema.columns[column].checks[int(number)]
        rows = group["index"].astype("int64").to_numpy()
        values = text[column].iloc[rows] if column in text.columns else group["failure_case"].astype(str)
        failures.add(rows, check.name, column, list(values), check.error)


# -- the load ------------------------------------------------------------------------------------

@dataclass
class Parsed:
    """The typed frame and everything learnt on the way."""

    typed: pd.DataFrame
    repairs: dict[str, pd.Series]
    extra_columns: list[str]


def _or(repairs: dict[str, pd.Series], code: str, mask: pd.Series) -> None:
    mask = mask.fillna(False).astype(bool)
    repairs[code] = repairs[code] | mask if code in repairs else mask


def parse_columns(spec: TableSpec, text: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Every column to its lake type (unreadable values become null: the text schema has
    already recorded them); dates and years get their `_era` column."""
    typed = pd.DataFrame(index=text.index)
    repairs: dict[str, pd.Series] = {}
    for col in spec.columns:
        s = text[col.name]
        if col.kind == base.DATE:
            p = normalise.date(s, norm=col.norm, excel=col.excel)
        elif col.kind == base.BE_YEAR:
            p = normalise.be_year(s)
        elif col.kind == base.TIMESTAMP:
            p = normalise.timestamp(s)
        elif col.kind in base.NUMERIC:
            p = normalise.number(s, integer=col.kind == base.COUNT)
        elif col.kind == base.BOOL:
            p = normalise.boolean(s)
        elif col.kind == base.AREA_NAME:
            p = normalise.area_name(s)
        elif col.kind in (base.AREA_CODE, base.CITIZEN_ID):
            p = normalise.Parsed(normalise.digits_only(s), pd.Series(False, index=s.index),
                                 {normalise.THAI_DIGITS: normalise.thai_digits(s)[1]})
        else:
            p = normalise.Parsed(s, pd.Series(False, index=s.index))
        typed[col.name] = p.value
        if p.era is not None and col.kind in (base.DATE, base.BE_YEAR):
            typed[f"{col.name}_era"] = p.era
        for code, mask in p.repairs.items():
            if code != normalise.AREA_NAME_NORMALISED:   # decided after the area is resolved
                _or(repairs, code, mask)
    return typed, repairs


def _geometry(text: pd.DataFrame, typed: pd.DataFrame, failures: Failures,
              repairs: dict[str, pd.Series]) -> None:
    """GeoJSON geometries: a point inside each (lon, lat), the type and WKT; a geometry whose
    coordinates are (lat, lon) is swapped back."""
    raw = text[readers.GEOMETRY]
    geoms = np.array([None] * len(raw), dtype=object)
    ok = raw.notna().to_numpy()
    if ok.any():
        try:
            geoms[ok] = shapely.from_geojson(raw[ok].tolist(), on_invalid="ignore")
        except shapely.errors.GEOSException:
            geoms[ok] = [shapely.from_geojson(g, on_invalid="ignore") for g in raw[ok]]
    valid = np.array([g is not None and not shapely.is_empty(g) for g in geoms])
    failures.add_mask(pd.Series(~valid, index=text.index), "geometry_invalid", "geometry",
                      raw.fillna(""), "no readable point or polygon")
    points = np.array([shapely.get_coordinates(shapely.point_on_surface(g))[0] if v else (np.nan, np.nan)
                       for g, v in zip(geoms, valid)], dtype=float).reshape(-1, 2)
    lon, lat = pd.Series(points[:, 0], index=text.index), pd.Series(points[:, 1], index=text.index)
    swapped = area_mod.swapped_lat_lon(lon, lat)
    if swapped.any():
        idx = np.flatnonzero(swapped.to_numpy())
        geoms[idx] = shapely.transform(geoms[idx], lambda c: c[:, ::-1])
        lon[swapped], lat[swapped] = points[idx, 1], points[idx, 0]
        _or(repairs, area_mod.LAT_LON_SWAPPED, swapped)
    typed["geometry_type"] = pd.Series([g.geom_type if v else None for g, v in zip(geoms, valid)],
                                       index=text.index, dtype="str")
    typed["lon"], typed["lat"] = lon.round(7), lat.round(7)
    typed["geometry_wkt"] = pd.Series([shapely.to_wkt(g, rounding_precision=7) if v else None
                                       for g, v in zip(geoms, valid)], index=text.index, dtype="str")


def _canonical_names(resolver_names: tuple[str, str, str], typed: pd.DataFrame,
                     code: pd.Series) -> None:
    """Where the typed names are the resolved area's (as geothai reads them), write geothai's own
    spelling (กทม. -> กรุงเทพมหานคร, อ.เมือง -> เมืองเชียงใหม่); other names stay as cleaned."""
    sub_c, dist_c, prov_c = resolver_names
    frame = pd.DataFrame({"s": typed[sub_c], "d": typed[dist_c], "p": typed[prov_c], "c": code})
    frame = frame[frame["c"].notna() & frame["s"].notna()]
    if frame.empty:
        return
    keys, distinct = pd.MultiIndex.from_frame(frame.astype(object)).factorize()
    names = []
    for s, d, p, c in distinct:
        clean = lambda x: None if pd.isna(x) else x  # noqa: E731
        found = geothai.match(s, district=clean(d), province=clean(p))
        hit = next((a for a in found if a.subdistrict.code == c), None)
        names.append((hit.subdistrict.name_th, hit.district.name_th, hit.province.name_th)
                     if hit else (s, clean(d), clean(p)))
    chosen = pd.DataFrame([names[k] for k in keys], index=frame.index, columns=["s", "d", "p"])
    for target, source in ((sub_c, "s"), (dist_c, "d"), (prov_c, "p")):
        typed.loc[chosen.index, target] = chosen[source].where(chosen[source].notna(),
                                                               typed.loc[chosen.index, target])


def _resolve_areas(spec: TableSpec, raw_frame: pd.DataFrame, text: pd.DataFrame,
                   typed: pd.DataFrame, failures: Failures, repairs: dict[str, pd.Series],
                   boundaries: Path) -> None:
    a = spec.areas
    resolver = area_mod.resolver(Path(boundaries))
    index = typed.index
    if a.level == "province":
        code = typed[a.code]
        status = {c: resolver.province_status(c) for c in code.dropna().unique()}
        result = code.map(lambda c: status.get(c, (None, None, "")) if pd.notna(c) else (None, None, ""))
        bad = result.map(lambda r: r[1] is not None)
        failures.add_mask(bad, area_mod.AREA_CODE_UNKNOWN, a.code, text[a.code], result.map(lambda r: r[2]))
        return
    if a.level == "mixed":
        code = typed[a.code]
        is_province = code.str.len() == 2
        resolved = pd.Series(pd.NA, index=index, dtype="str")
        method = pd.Series(pd.NA, index=index, dtype="str")
        prov = code.where(is_province)
        ok_prov = prov.isin(resolver.provinces)
        resolved[ok_prov] = prov[ok_prov]
        method[ok_prov] = area_mod.GIVEN
        failures.add_mask(is_province & ~ok_prov, area_mod.AREA_CODE_UNKNOWN, a.code, text[a.code],
                          "not a current DOPA province code")
        sub = ~is_province.fillna(False) & code.notna()
        r = resolver.resolve(index[sub.to_numpy()], code=code[sub], code_column=a.code)
        resolved[sub] = r.code
        method[sub] = r.method
        for c, mask in r.repairs.items():
            _or(repairs, c, mask.reindex(index, fill_value=False))
        bad = r.reason.notna()
        failures.add_mask(bad.reindex(index, fill_value=False), r.reason.reindex(index),
                          a.code, text[a.code], r.detail.reindex(index))
        typed[f"{a.code}_original"] = normalise.clean_text(text[a.code])
        typed[a.code] = resolved
        typed["area_level"] = pd.Series(np.where(is_province.fillna(False), "province", "subdistrict"),
                                        index=index, dtype="str").where(code.notna())
        typed["area_resolution"] = method
        return
    names = tuple(typed[n] for n in a.names) if a.names else None
    lon = typed[a.point[0]] if a.point else None
    lat = typed[a.point[1]] if a.point else None
    if a.point and spec.format != "geojson":
        swapped = area_mod.swapped_lat_lon(lon, lat)
        if swapped.any():
            lon, lat = lon.where(~swapped, lat), lat.where(~swapped, lon)
            typed[a.point[0]], typed[a.point[1]] = lon, lat
            _or(repairs, area_mod.LAT_LON_SWAPPED, swapped)
    code = typed[a.code] if a.code else None
    r = resolver.resolve(index, code=code, code_column=a.code or "subdistrict_code", names=names,
                         name_columns=a.names or ("subdistrict", "district", "province"),
                         lon=lon, lat=lat)
    for c, mask in r.repairs.items():
        _or(repairs, c, mask)
    bad = r.reason.notna()
    # The offending value is the text of the column the resolver blames (code, name or lon).
    offending = pd.Series([text[c].iloc[i] if isinstance(c, str) and c in text.columns else None
                           for i, c in zip(np.flatnonzero(bad.to_numpy()), r.column[bad])],
                          index=r.column[bad].index, dtype="object")
    failures.add_mask(bad, r.reason, r.column, offending.reindex(index), r.detail)
    if a.names:
        _canonical_names(a.names, typed, r.code)
        for n in a.names:
            # Compared with the value as read (spaces included: extra spaces are a repair too).
            changed = (typed[n] != raw_frame[n]).fillna(False) & typed[n].notna()
            _or(repairs, normalise.AREA_NAME_NORMALISED, changed)
    typed["subdistrict_code"] = r.code
    typed["subdistrict_code_original"] = r.original
    typed["area_resolution"] = r.method


def parent_keys(spec: TableSpec, sources_dir: Path) -> set[str]:
    """The parent table's keys as they are in its source (any row read, valid or not)."""
    import schemas

    parent = schemas.TABLES[(spec.parent.source, spec.parent.table)]
    raw = read_source(parent, sources_dir)
    return set(normalise.clean_text(raw.frame[spec.parent.parent_column]).dropna().unique())


def _json_records(frame: pd.DataFrame) -> list[str]:
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [json.dumps(r, ensure_ascii=False, default=str) for r in records]


def _row_keys(spec: TableSpec, text: pd.DataFrame) -> pd.Series:
    """The key as the source wrote it (`a|b` for a key of several columns; derived columns such
    as the fiscal year from a workbook's name are not part of what the source calls its key)."""
    cols = [k for k in spec.key if k in spec.column_names]
    out = text[cols[0]].fillna("")
    for c in cols[1:]:
        out = out + "|" + text[c].fillna("")
    return out.where(out.str.strip("|") != "")


def load_table(spec: TableSpec, sources_dir: Path, lake_dir: Path, key: bytes,
               boundaries: Path, now: dt.datetime | None = None) -> Reconciliation:
    """Load one source table into the lake; returns its reconciliation. Pure: paths and the
    pseudonym key are arguments (the Dagster asset takes them from orchestration.settings)."""
    started = dt.datetime.now(dt.UTC)
    now = now or started
    sources_dir, lake_dir = Path(sources_dir), Path(lake_dir)
    raw = read_source(spec, sources_dir)
    load_id = load_id_for(raw.files, now)
    frame = raw.frame.reset_index(drop=True)
    n = len(frame)
    rows_read = n + len(raw.malformed)

    source_cols = spec.column_names
    derived_cols = [c for c in frame.columns if c not in source_cols and not c.startswith("_")]
    text = pd.DataFrame({c: normalise.clean_text(frame[c]) for c in source_cols + derived_cols})
    if readers.GEOMETRY in frame.columns:
        text[readers.GEOMETRY] = frame[readers.GEOMETRY]
    failures = Failures()

    # Exact copies of an earlier row are counted, not kept. The region sheet is where a row sits,
    # not what it says; the fiscal year from a workbook's name is part of what it says.
    identity = [c for c in source_cols + derived_cols if c != "region_sheet"]
    if readers.GEOMETRY in text.columns:
        identity.append(readers.GEOMETRY)
    exact = text[identity].duplicated(keep="first").to_numpy()

    # Conflicting duplicates: the same key with other values. The latest record wins (by
    # `latest_by` where the table has it, else the later in the file); the others are quarantined.
    keys = list(spec.key)
    key_text = text[keys].apply(lambda s: normalise.thai_digits(s)[0])
    candidates = ~exact & key_text.notna().all(axis=1).to_numpy()
    sub = key_text[candidates]
    clash = sub.duplicated(keep=False)
    if clash.any():
        group = sub[clash].copy()
        if spec.latest_by:
            group["_latest"] = normalise.timestamp(text.loc[group.index, spec.latest_by]).value
        else:
            group["_latest"] = pd.NaT
        group["_pos"] = group.index
        group = group.sort_values(["_latest", "_pos"], na_position="first", kind="stable")
        older = group.duplicated(keys, keep="last")
        winner = group.drop_duplicates(keys, keep="last").set_index(keys)["_pos"]
        losers = group[older]
        where = [f"{frame[SOURCE_FILE].iloc[winner.loc[tuple(r) if len(keys) > 1 else r[0]]]} row "
                 f"{frame[SOURCE_ROW].iloc[winner.loc[tuple(r) if len(keys) > 1 else r[0]]]}"
                 for r in losers[keys].itertuples(index=False)]
        failures.add(losers.index.to_numpy(), "duplicate_key_superseded", keys[0],
                     list(text[keys[0]].iloc[losers.index]),
                     [f"an older record of this key: the latest is {w}" for w in where])

    live = ~exact
    live_text = text[live]
    run_schema(spec.text, live_text[source_cols], failures, text)

    typed, repairs = parse_columns(spec, text)
    for c in derived_cols:
        if c == "fiscal_year":
            typed[c] = pd.to_numeric(text[c]).astype("Int64")
        elif c != readers.GEOMETRY:
            typed[c] = text[c]
    if spec.derived.get("geometry") == "geometry_columns":
        _geometry(text, typed, failures, repairs)
    if spec.areas is not None:
        _resolve_areas(spec, frame, text, typed, failures, repairs, boundaries)
    if spec.parent is not None:
        known = parent_keys(spec, sources_dir)
        child = normalise.clean_text(text[spec.parent.column])
        orphan = child.notna() & ~child.isin(known)
        failures.add_mask(orphan & pd.Series(live, index=text.index), "orphan_reference",
                          spec.parent.column, child,
                          f"no {spec.parent.parent_column} like it in {spec.parent.source}/{spec.parent.table}")
    run_schema(spec.typed, typed[live], failures, text)

    fails = failures.frame()
    fails = fails[~exact[fails["row"].to_numpy()]] if len(fails) else fails
    if len(fails) and spec.skip_after:
        # A total row is not a record: its other "problems" are not worth listing.
        special = fails[fails["code"].isin(spec.skip_after)]
        fails = fails[~fails["row"].isin(special["row"]) | fails["code"].isin(spec.skip_after)]
    fails = fails.drop_duplicates(["row", "code", "column"])
    bad_rows = np.zeros(n, dtype=bool)
    bad_rows[fails["row"].to_numpy()] = True
    valid_mask = ~exact & ~bad_rows

    validated = _validated_frame(spec, typed, frame, repairs, valid_mask, load_id, key)
    quarantine = _quarantine_frame(spec, frame, text, fails, raw.malformed, load_id, key)

    valid_dir = table_dir(lake_dir, "validated", spec.source, spec.table)
    quarantine_dir = table_dir(lake_dir, "quarantine", spec.source, spec.table)
    valid_path = write_table_atomic(_to_arrow(validated), valid_dir)
    quarantine_path = write_table_atomic(_to_arrow(quarantine), quarantine_dir)

    reasons = Counter()
    for codes in quarantine["reason_codes"]:
        reasons.update(codes.split(";"))
    repair_counts = Counter()
    for codes in validated[REPAIRS]:
        if codes:
            repair_counts.update(codes.split(";"))
    rec = Reconciliation(
        source=spec.source, table=spec.table, load_id=load_id, loaded_at=now.isoformat(),
        files=raw.files, rows_read=rows_read, valid=len(validated), quarantined=len(quarantine),
        duplicates=int(exact.sum()), reasons=dict(sorted(reasons.items())),
        repairs=dict(sorted(repair_counts.items())),
        area_resolution=({str(k): int(v) for k, v in validated["area_resolution"].value_counts().items()}
                         if "area_resolution" in validated.columns else {}),
        validated_path=str(valid_path), quarantine_path=str(quarantine_path),
        seconds=round((dt.datetime.now(dt.UTC) - started).total_seconds(), 2))
    path = loads_path(lake_dir, spec.source, spec.table)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(rec.to_json(), encoding="utf-8")
    tmp.replace(path)
    return rec


def _repairs_text(repairs: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    out = pd.Series("", index=index, dtype="str")
    codes = [c for c in REPAIR_ORDER if c in repairs] + sorted(set(repairs) - set(REPAIR_ORDER))
    for code in codes:
        mask = repairs[code].reindex(index, fill_value=False).to_numpy(bool)
        if mask.any():
            out[mask] = out[mask] + ";" + code
    return out.str.lstrip(";")


def _validated_frame(spec, typed, frame, repairs, valid_mask, load_id, key) -> pd.DataFrame:
    out = typed[valid_mask].copy()
    out = pseudonym.pseudonymise_frame(out, key)
    out[REPAIRS] = _repairs_text(repairs, typed.index)[valid_mask]
    out[SOURCE_FILE] = frame[SOURCE_FILE][valid_mask]
    out[SOURCE_ROW] = frame[SOURCE_ROW][valid_mask].astype("int64")
    out[LOAD_ID] = load_id
    return out.reset_index(drop=True)


def _shown(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(empty)"
    return json.dumps(str(value), ensure_ascii=False)


def _quarantine_frame(spec, frame, text, fails, malformed, load_id, key) -> pd.DataFrame:
    personal = {c: kind for c, (_, kind) in pseudonym.PERSONAL_COLUMNS.items() if c in frame.columns}
    rows = []
    if len(fails):
        fails = fails.sort_values(["row"], kind="stable")
        # Personal values are pseudonymised before they are written anywhere.
        for column, kind in personal.items():
            m = fails["column"] == column
            if m.any():
                fails.loc[m, "value"] = pseudonym.pseudonymise(
                    fails.loc[m, "value"].astype("str"), kind, key).to_numpy()
        involved = np.unique(fails["row"].to_numpy())
        originals = frame.iloc[involved].drop(columns=[SOURCE_FILE, SOURCE_ROW]).copy()
        for column, kind in personal.items():
            originals[column] = pseudonym.pseudonymise(originals[column], kind, key)
        if readers.GEOMETRY in originals.columns:
            originals = originals.rename(columns={readers.GEOMETRY: "geometry"})
        original_json = dict(zip(involved, _json_records(originals)))
        keys = _row_keys(spec, text)
        for row, group in fails.groupby("row", sort=True):
            file, line = frame[SOURCE_FILE].iat[row], int(frame[SOURCE_ROW].iat[row])
            parts = [f"column {c or '(row)'} = {_shown(v)}: {d}"
                     for c, v, d in zip(group["column"], group["value"], group["detail"])]
            rows.append({
                SOURCE_FILE: file, SOURCE_ROW: line, LOAD_ID: load_id,
                "row_key": keys.iat[row] if pd.notna(keys.iat[row]) else None,
                "reason_codes": ";".join(group["code"]),
                "columns": ";".join(c or "" for c in group["column"]),
                "values": json.dumps([None if v is None or (isinstance(v, float) and np.isnan(v))
                                      else str(v) for v in group["value"]], ensure_ascii=False),
                "message": f"{file} row {line} (table {spec.name}): " + "; ".join(parts),
                "original_row": original_json[row],
            })
    for _, m in malformed.iterrows():
        # Lines no reader could split into columns: kept whole, as text.
        column = m["column"] if isinstance(m["column"], str) else None
        where = f" column {column!r}" if column else ""
        rows.append({
            SOURCE_FILE: m[SOURCE_FILE], SOURCE_ROW: int(m[SOURCE_ROW]), LOAD_ID: load_id,
            "row_key": None, "reason_codes": m["reason_code"], "columns": column or "",
            "values": json.dumps([m["raw"]], ensure_ascii=False),
            "message": f"{m[SOURCE_FILE]} row {int(m[SOURCE_ROW])} (table {spec.name}){where}: {m['message']}",
            "original_row": json.dumps({"raw": m["raw"]}, ensure_ascii=False),
        })
    out = pd.DataFrame(rows, columns=QUARANTINE_COLUMNS)
    if len(out):
        out = out.sort_values([SOURCE_FILE, SOURCE_ROW], kind="stable").reset_index(drop=True)
    return out.astype({SOURCE_ROW: "int64"}) if len(out) else out


def _to_arrow(frame: pd.DataFrame) -> pa_arrow.Table:
    """pandas -> Arrow with the lake's types: dates as date32, counts as int64, text as string."""
    fields, arrays = [], []
    for name in frame.columns:
        s = frame[name]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            arr = pa_arrow.array(s, type=pa_arrow.timestamp("us", tz="UTC"))
        elif pd.api.types.is_datetime64_dtype(s.dtype):
            arr = pa_arrow.array(s.dt.date.where(s.notna(), None) if len(s) else [], type=pa_arrow.date32())
        elif name == SOURCE_ROW or str(s.dtype) in ("Int64", "int64"):
            arr = pa_arrow.array(s.astype("Int64"), type=pa_arrow.int64())
        elif str(s.dtype) in ("float64", "Float64"):
            arr = pa_arrow.array(s.astype("float64"), type=pa_arrow.float64(), from_pandas=True)
        elif str(s.dtype) == "boolean":
            arr = pa_arrow.array(s, type=pa_arrow.bool_())
        else:
            arr = pa_arrow.array(s.astype("object").where(s.notna(), None), type=pa_arrow.string())
        fields.append(pa_arrow.field(name, arr.type))
        arrays.append(arr)
    return pa_arrow.Table.from_arrays(arrays, schema=pa_arrow.schema(fields))
