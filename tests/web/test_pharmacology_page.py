"""The receptor-occupancy page and its JSON, served by the running web app."""

from __future__ import annotations

from tests.web.conftest import Clinic


def test_occupancy_json_and_page(clinic: Clinic) -> None:
    with clinic.client() as http:
        data = http.get("/api/evidence/occupancy").json()
        rows = {(r[0], r[1]): r for r in data["rows"]}
        col = data["columns"].index("steady h>=50%")
        # The fitted default holds 4.5 mg above 50% all day; 1.5 mg never reaches it.
        assert float(rows[("fitted", "4.5")][col]) > 20
        assert float(rows[("fitted", "1.5")][col]) == 0
        # Under instant equilibrium 4.5 mg is above 50% for a few hours a day, 50 mg nearly all day.
        assert 0 < float(rows[("equilibrium", "4.5")][col]) < 6
        assert float(rows[("equilibrium", "50")][col]) > 18
        assert float(rows[("equilibrium", "1.5")][col]) == 0
        page = http.get("/evidence/pharmacology")
        assert page.status_code == 200
        assert 'data-testid="occupancy-table"' in page.text
        assert page.text.count("<polyline") == 12  # 4 doses x 3 scenarios
        assert 'data-testid="occupancy-fit-hours"' in page.text
        fit = http.get("/api/evidence/occupancy/fit").json()
        hours = fit["hours_above_50"]["rows"]
        assert [r["dose_mg"] for r in hours] == [1.5, 3.0, 4.5, 50.0]
        assert all(r["lo95"] <= r["median"] <= r["hi95"] for r in hours)
        assert fit["default_structure"] in page.text
        assert any(h["id"].startswith("label-") for h in fit["held_out"])
        assert "rabiner-2011" in page.text or "Rabiner" in page.text
