package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// EventsSchema is the catalogue of outbound events as JSON Schema (draft
// 2020-12): the envelope every event shares and, per type, its data. Its
// version is eventflow.Version; a test validates real events against it.
//
//go:embed events.schema.json
var EventsSchema []byte

func (a *api) eventsSchema(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/schema+json", EventsSchema)
}
