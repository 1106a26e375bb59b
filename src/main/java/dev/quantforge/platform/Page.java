package dev.quantforge.platform;

import java.util.List;

/** A page of a list endpoint: {@code {"items":[...], "page":0, "size":50, "total":123}}. */
public record Page<T>(List<T> items, int page, int size, long total) {
}
