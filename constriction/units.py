"""Units and constants: the one place they are spelled. Lengths are given in µm and
areas in cm² where electrochemists expect them; inside, everything is SI."""

from scipy import constants

EPS0 = constants.epsilon_0                          # vacuum permittivity, F/m
BOLTZMANN_eV_per_K = constants.k / constants.e      # eV/K
UM = constants.micro                                # m per µm
M2_PER_CM2 = constants.centi**2                     # m² per cm²
CM2_PER_M2 = 1 / M2_PER_CM2
UM2_PER_CM2 = M2_PER_CM2 / UM**2                    # µm² per cm²
