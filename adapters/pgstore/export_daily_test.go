package pgstore

// Exported for the tests' EXPLAIN of the daily summary.
var (
	DailyClaimsQuery  = dailyClaimsQuery
	DailyAmountsQuery = dailyAmountsQuery
	ClaimIDBound      = claimIDBound
)
