# Multi-stage build of the three binaries: static, non-root, no shell.
#   docker build -t tensionwatch .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/tensionwatch/tensionwatch/internal/version.Version=${VERSION}" \
      -o /out/ ./cmd/collector ./cmd/scorer ./cmd/tensionwatch

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
COPY deploy/feeds.yaml /etc/tensionwatch/feeds.yaml
USER nonroot:nonroot
EXPOSE 8080 9101
ENTRYPOINT ["/usr/local/bin/tensionwatch"]
