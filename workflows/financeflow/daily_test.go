package financeflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// dailyStore answers Daily and records the period it was asked for.
type dailyStore struct {
	financeflow.Store // methods the tests do not reach panic
	asked             []finance.Period
}

func (s *dailyStore) Daily(_ context.Context, p finance.Period) (financeflow.Daily, error) {
	s.asked = append(s.asked, p)
	return financeflow.Daily{}, nil
}

func TestDailyTakesWholeUTCDays(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		give  finance.Period
		field string // "" for accepted
	}{
		{"a week", finance.Period{From: day, To: day.AddDate(0, 0, 7)}, ""},
		{"a year and a day", finance.Period{From: day, To: day.AddDate(0, 0, 366)}, ""},
		{"midnight elsewhere is a UTC day", finance.Period{From: day.In(time.FixedZone("X", 3600)), To: day.AddDate(0, 0, 1)}, ""},
		{"no from", finance.Period{To: day}, "from"},
		{"to before from", finance.Period{From: day, To: day.AddDate(0, 0, -1)}, "to"},
		{"empty", finance.Period{From: day, To: day}, "to"},
		{"from mid-day", finance.Period{From: day.Add(time.Hour), To: day.AddDate(0, 0, 1)}, "from"},
		{"to mid-day", finance.Period{From: day, To: day.Add(30 * time.Hour)}, "to"},
		{"too long", finance.Period{From: day, To: day.AddDate(0, 0, 367)}, "to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := &dailyStore{}
			svc := financeflow.New(financeflow.Config{Store: st})
			d, err := svc.Daily(context.Background(), tc.give)
			if tc.field == "" {
				require.NoError(t, err)
				require.Equal(t, []finance.Period{{From: tc.give.From.UTC(), To: tc.give.To.UTC()}}, st.asked)
				require.Equal(t, st.asked[0], d.Period)
				return
			}
			var ve *validation.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field)
			require.Empty(t, st.asked, "a bad period reads nothing")
		})
	}
}

// onceStore refuses to be reached: a bad key is refused before the store.
type onceStore struct{ financeflow.Store }

func TestRecordRecoveryOnceRefusesABadKey(t *testing.T) {
	t.Parallel()
	svc := financeflow.New(financeflow.Config{Store: onceStore{}})
	for _, key := range []string{"", "has space", string(make([]byte, 256)), "tab\tkey"} {
		_, _, err := svc.RecordRecoveryOnce(context.Background(), claimflow.Viewer{Role: "finance", Subject: "fin"},
			financeflow.RecoveryInput{SellerID: "sel_1", Amount: 100, Currency: "EUR", Method: "payment_received", Reference: "r"},
			claimflow.Key{Door: claimflow.DoorConsole, Value: key})
		var ve *validation.Error
		require.ErrorAs(t, err, &ve, "key %q", key)
		require.Equal(t, "idempotency_key", ve.Field)
	}
}
