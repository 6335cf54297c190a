"""The risk portrait (企业风险画像, B.18): a weighted risk score per department, post and person."""
