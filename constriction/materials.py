"""Materials: conductivity and permittivity, Arrhenius temperature dependence, and named
material sets.

NZSP0.4 (Na3.4Zr2Si2.4P0.6O12, thesis; docs/REFERENCE.md), at T_ref = 298.15 K:

    bulk            sigma 1.4 S/m (14 mS/cm, derived), eps_r 420 (derived), E_a 0.26 eV
    grain boundary  delta 1 nm, E_a 0.36 eV, and sigma_gb, eps_gb chosen so that 1 µm
                    brick-layer grains in a 2 mm pellet give the measured GB arc:
                    apex f = sigma_gb / (2 pi eps0 eps_gb) = 1.57 MHz and
                    C = eps0 eps_gb d / (delta L) = 4.5 nF/cm² (L599). Then
                    eps_gb = 10.2, sigma_gb = 8.9e-4 S/m, R_gb = 22.5 ohm cm², and
                    the total conductivity 0.2 cm / (14.3 + 22.5) ohm cm² = 5.4 mS/cm
                    matches the measured 5.5 mS/cm (L557).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from constriction.units import BOLTZMANN_eV_per_K, EPS0


@dataclass(frozen=True)
class Material:
    """Conductivity (S/m) at T_ref_K and relative permittivity; activation_eV > 0 makes the
    conductivity Arrhenius: sigma(T) = sigma exp(-E_a / k (1/T - 1/T_ref))."""
    sigma_S_per_m: float
    eps_r: float
    activation_eV: float = 0.0
    T_ref_K: float = 298.15

    @property
    def tau_s(self) -> float:
        """Dielectric relaxation time eps0 eps_r / sigma (s): the apex of its own arc is at
        1 / (2 pi tau)."""
        return EPS0 * self.eps_r / self.sigma_S_per_m

    def at(self, T_K: float | None) -> "Material":
        """The same material with its reference moved to T_K: sigma_S_per_m is then the
        conductivity at T_K (itself if T_K is None or it has no E_a)."""
        if T_K is None or self.activation_eV == 0 or T_K == self.T_ref_K:
            return self
        return Material(arrhenius(self.sigma_S_per_m, self.activation_eV, self.T_ref_K, T_K), self.eps_r,
                        self.activation_eV, T_K)

_GB_APEX_HZ, _GB_C_F_PER_M2 = 1.57e6, 4.5e-9 / 1e-4
_GRAIN_M, _PELLET_M, _DELTA_M = 1e-6, 2e-3, 1e-9
_EPS_GB = _GB_C_F_PER_M2 * _DELTA_M * _PELLET_M / (EPS0 * _GRAIN_M)
_SIGMA_GB = 2 * math.pi * _GB_APEX_HZ * EPS0 * _EPS_GB

NAMED = {
    "NZSP0.4": {
        "electrolyte": {"sigma_S_per_m": 1.4, "eps_r": 420.0, "activation_eV": 0.26, "T_ref_K": 298.15},
        "grain_boundary": {"sigma_S_per_m": _SIGMA_GB, "eps_r": _EPS_GB, "thickness_um": _DELTA_M * 1e6,
                           "activation_eV": 0.36, "T_ref_K": 298.15},
    },
}


def arrhenius(sigma_ref: float, activation_eV: float, T_ref_K: float, T_K: float) -> float:
    """sigma(T) = sigma_ref exp(-E_a / k (1/T - 1/T_ref)) (S/m)."""
    return sigma_ref * math.exp(-activation_eV / BOLTZMANN_eV_per_K * (1 / T_K - 1 / T_ref_K))
