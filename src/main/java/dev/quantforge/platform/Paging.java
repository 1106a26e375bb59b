package dev.quantforge.platform;

import java.util.ArrayList;
import java.util.List;

/** Validation of list paging parameters. */
public final class Paging {

    public static final int MAX_SIZE = 500;

    private Paging() {
    }

    public static void check(int page, int size) {
        List<ApiException.FieldError> errors = new ArrayList<>();
        if (page < 0) {
            errors.add(new ApiException.FieldError("page", "must be ≥ 0, got " + page));
        }
        if (size < 1 || size > MAX_SIZE) {
            errors.add(new ApiException.FieldError("size", "must be between 1 and " + MAX_SIZE + ", got " + size));
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
    }
}
