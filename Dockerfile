# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/claimsd ./cmd/claimsd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/claimsd /usr/local/bin/claimsd
USER nonroot:nonroot
ENV CLAIMSD_HTTP_ADDR=0.0.0.0:8080 \
    CLAIMSD_DATA_DIR=/var/lib/claimsd
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/claimsd"]
CMD ["serve"]
