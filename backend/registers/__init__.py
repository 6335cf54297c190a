"""Risk registers: the B.1 risk-point list (专业廉洁风险清单), kept with every version."""
