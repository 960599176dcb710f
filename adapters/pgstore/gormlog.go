package pgstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// quietLogger is gorm's logger that renders a statement only when it is
// going to log it: a failed statement, or one slower than slow. gorm's
// slog logger renders every statement (its SQL rewritten by regular
// expressions) before it decides, which was a sixth of the engine's
// allocations under load.
type quietLogger struct {
	logger.Interface
	slow time.Duration
}

// gorm's Scan renders every statement it runs through a recorder of its
// own, values written in, before our logger sees it: the recorder is told
// to leave the values out, as our logger does. (The claim's path reads
// with Find, which goes through our logger alone.)
func init() {
	logger.RecorderParamsFilter = func(_ context.Context, sql string, _ ...any) (string, []any) { return sql, nil }
}

// Trace implements logger.Interface. What it logs has its quoted values
// taken out too, should any statement come rendered with them: they can
// hold shoppers' words.
func (l quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if (err == nil || errors.Is(err, gorm.ErrRecordNotFound)) && time.Since(begin) <= l.slow {
		return
	}
	l.Interface.Trace(ctx, begin, func() (string, int64) {
		sql, rows := fc()
		return withoutLiterals(sql), rows
	}, err)
}

// LogMode implements logger.Interface.
func (l quietLogger) LogMode(level logger.LogLevel) logger.Interface {
	return quietLogger{Interface: l.Interface.LogMode(level), slow: l.slow}
}

// ParamsFilter implements gorm.ParamsFilter as the wrapped logger does,
// so a statement's values stay out of the log when it leaves them out.
func (l quietLogger) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	if f, ok := l.Interface.(gorm.ParamsFilter); ok {
		return f.ParamsFilter(ctx, sql, params...)
	}
	return sql, params
}

// withoutLiterals returns sql with each string in single quotes (a
// doubled quote inside it is part of it) written as ?.
func withoutLiterals(sql string) string {
	var b strings.Builder
	b.Grow(len(sql))
	for i := 0; i < len(sql); i++ {
		if sql[i] != '\'' {
			b.WriteByte(sql[i])
			continue
		}
		for i++; i < len(sql); i++ {
			if sql[i] == '\'' {
				if i+1 < len(sql) && sql[i+1] == '\'' {
					i++
					continue
				}
				break
			}
		}
		b.WriteByte('?')
	}
	return b.String()
}
