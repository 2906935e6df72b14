"""The lens of a simulated microscope: one validated set of parameters for the HRTEM objective
lens (:meth:`Lens.ctf`) and the STEM probe-forming lens (:meth:`Lens.probe`).

Conventions are abTEM's (see :mod:`.hrtem` for chi): ``defocus`` = -C10, positive is
underfocus; ``Cs`` = C30; ``astigmatism`` = C12 with azimuth ``astigmatism_angle`` = phi12
measured from the x axis towards y. A focal series is one lens and a list of defocus offsets
(:meth:`Lens.defocus_series`).
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import abtem

from atomscope._shared.validation import check_finite, check_positive

__all__ = ["Lens", "check_lens"]

#: Fields of :class:`Lens` with their unit and the check they pass: None (finite), '> 0' or '>= 0'.
_FIELDS = {
    "energy": ("eV", "> 0"),
    "defocus": ("Å", None),
    "Cs": ("Å", None),
    "astigmatism": ("Å", ">= 0"),
    "astigmatism_angle": ("rad", None),
    "semiangle_cutoff": ("mrad", "> 0"),
    "focal_spread": ("Å", ">= 0"),
    "angular_spread": ("mrad", ">= 0"),
}


@dataclass(frozen=True, kw_only=True)
class Lens:
    """Objective lens (HRTEM) or probe-forming lens (STEM), validated on construction.

    Parameters
    ----------
    energy : float, optional
        Acceleration voltage [eV] (default 80e3).
    defocus : float, optional
        Defocus [Å], abTEM's convention: defocus = -C10, positive is underfocus (default 0).
    Cs : float, optional
        Spherical aberration C30 [Å], negative for a Cs-corrected instrument, e.g. -15e4
        (default 0).
    astigmatism : float, optional
        Two-fold astigmatism C12 [Å], >= 0 (default 0).
    astigmatism_angle : float, optional
        Azimuth phi12 of the astigmatism from the x axis towards y [rad] (default 0).
    semiangle_cutoff : float
        Aperture semi-angle [mrad], > 0: the objective aperture (HRTEM) or the probe's
        convergence semi-angle (STEM). The edge is softened over a pixel, as abTEM does.
    focal_spread : float, optional
        Focal spread from partial temporal coherence, 1/e half-width [Å] (default 0; HRTEM only).
    angular_spread : float, optional
        Partial spatial coherence: standard deviation of the illumination angles from the
        source size [mrad] (default 0; HRTEM only).

    Raises
    ------
    TypeError
        A parameter that is not a real number.
    ValueError
        A parameter that is not finite or out of its range; the message names it.

    Examples
    --------
    >>> lens = Lens(defocus=-60.0, Cs=-15e4, semiangle_cutoff=25.0, focal_spread=30.0)
    >>> [l.defocus for l in lens.defocus_series([-30.0, 20.0])]
    [-90.0, -40.0]
    """

    energy: float = 80e3
    defocus: float = 0.0
    Cs: float = 0.0
    astigmatism: float = 0.0
    astigmatism_angle: float = 0.0
    semiangle_cutoff: float
    focal_spread: float = 0.0
    angular_spread: float = 0.0

    def __post_init__(self) -> None:
        for name, (unit, bound) in _FIELDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"`{name}` must be a real number [{unit}], got {value!r}")
            if bound is None:
                value = check_finite(value, name)
            else:
                value = check_positive(value, name, allow_zero=bound == ">= 0")
            object.__setattr__(self, name, value)  # a plain float, so equal lenses compare and print alike

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Lens:
        """The lens of a mapping that holds every field by name, e.g. one image's drawn microscope
        (:func:`.microscope.draw_microscope`) or a row of a shard table; other keys are ignored."""
        missing = [name for name in _FIELDS if name not in params]
        if missing:
            raise ValueError(f"`params` lacks the lens parameter(s) {missing}; a lens needs {list(_FIELDS)}")
        return cls(**{name: params[name] for name in _FIELDS})

    def defocus_series(self, offsets: Sequence[float]) -> tuple[Lens, ...]:
        """One lens per focal-series channel: this lens with ``defocus + offset`` [Å] each.

        ``offsets`` [Å] must hold at least one value; everything but the defocus is shared.
        """
        offsets = [check_finite(o, "offsets") for o in offsets]
        if not offsets:
            raise ValueError("`offsets` is empty: give at least one defocus offset [Å], e.g. [0.0]")
        return tuple(dataclasses.replace(self, defocus=self.defocus + offset) for offset in offsets)

    def ctf(self) -> abtem.CTF:
        """The abTEM CTF of this lens: envelopes x aperture x exp(-i chi) in reciprocal space.

        See :mod:`.hrtem` for chi; the envelopes are those of ``focal_spread`` and
        ``angular_spread``.
        """
        return abtem.CTF(
            energy=self.energy,
            defocus=self.defocus,
            Cs=self.Cs,
            astigmatism=self.astigmatism,
            astigmatism_angle=self.astigmatism_angle,
            semiangle_cutoff=self.semiangle_cutoff,
            focal_spread=self.focal_spread,
            angular_spread=self.angular_spread,
        )

    def probe(
        self,
        *,
        extent: tuple[float, float] | None = None,
        gpts: tuple[int, int] | None = None,
        device: str | None = None,
    ) -> abtem.Probe:
        """The coherent abTEM probe this lens forms: aperture ``semiangle_cutoff`` and the aberrations of :meth:`ctf`.

        Parameters
        ----------
        extent : tuple of float, optional
            (Lx, Ly) of the probe's cell [Å] (default: taken from the potential it scans).
        gpts : tuple of int, optional
            (nx, ny) grid points (default: taken from the potential it scans).
        device : {'cpu', 'gpu'}, optional
            Where abTEM computes (default: abTEM's configured device).

        Raises
        ------
        ValueError
            If ``focal_spread`` or ``angular_spread`` is non-zero: a probe is one coherent
            wave, and abTEM's Probe has no partial-coherence envelopes. Pass
            ``dataclasses.replace(lens, focal_spread=0.0, angular_spread=0.0)`` to drop them.
        """
        for name in ("focal_spread", "angular_spread"):
            if getattr(self, name) != 0:
                raise ValueError(
                    f"`{name}` must be 0 for a probe (one coherent wave), got {getattr(self, name)!r} "
                    f"{_FIELDS[name][0]}: replace it with 0.0 for STEM"
                )
        return abtem.Probe(
            energy=self.energy,
            semiangle_cutoff=self.semiangle_cutoff,
            aberrations=dict(self.ctf().aberration_coefficients),
            device=device,
            extent=None if extent is None else tuple(extent),
            gpts=None if gpts is None else tuple(gpts),
        )


def check_lens(lens: Lens, name: str = "lens") -> Lens:
    """Return ``lens``, raising ``TypeError`` naming ``name`` unless it is a :class:`Lens`."""
    if not isinstance(lens, Lens):
        raise TypeError(f"`{name}` must be an atomscope.simulation.Lens, got {type(lens).__name__} {lens!r}")
    return lens
