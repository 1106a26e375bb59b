package dev.quantforge.report;

import java.util.List;
import java.util.Locale;

/**
 * Small, dependency-free SVG charts served as job artifacts: a ranked bar chart (sensitivity) and
 * an accuracy-vs-latency scatter with its Pareto front (auto_quantize). Plain SVG opens in any
 * browser and embeds in reports.
 */
public final class SvgCharts {

    private SvgCharts() {
    }

    /** Horizontal bars, one per label, in the given order (most sensitive first). */
    public static String rankedBars(String title, List<String> labels, List<Double> values) {
        int rowH = 18;
        int labelW = 220;
        int barW = 420;
        int h = 50 + rowH * labels.size();
        double max = values.stream().mapToDouble(v -> Math.abs(v)).max().orElse(1);
        if (max == 0) {
            max = 1;
        }
        StringBuilder sb = header(labelW + barW + 120, h, title);
        for (int i = 0; i < labels.size(); i++) {
            double v = values.get(i);
            int y = 40 + i * rowH;
            int w = (int) Math.round(barW * Math.abs(v) / max);
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"11\">%s</text>%n",
                    labelW - 6, y + 12, esc(labels.get(i))));
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>%n",
                    labelW, y + 2, Math.max(1, w), rowH - 4, v >= 0 ? "#d9534f" : "#5b9bd5"));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\">%s</text>%n",
                    labelW + Math.max(1, w) + 4, y + 12, fmt(v)));
        }
        return sb.append("</svg>\n").toString();
    }

    /** One point of a scatter. */
    public record Point(String label, double latencyMs, double top1, boolean pareto, boolean best) {
    }

    /** Top-1 (y) against p50 latency (x); Pareto points joined by a line, the chosen one ringed. */
    public static String paretoScatter(String title, List<Point> points) {
        int w = 640;
        int h = 420;
        int left = 60;
        int right = 20;
        int top = 40;
        int bottom = 50;
        double minX = points.stream().mapToDouble(Point::latencyMs).min().orElse(0);
        double maxX = points.stream().mapToDouble(Point::latencyMs).max().orElse(1);
        double minY = points.stream().mapToDouble(Point::top1).min().orElse(0);
        double maxY = points.stream().mapToDouble(Point::top1).max().orElse(1);
        if (maxX - minX < 1e-9) {
            maxX = minX + 1;
        }
        if (maxY - minY < 1e-9) {
            maxY = minY + 0.01;
        }
        double x0 = minX - 0.05 * (maxX - minX);
        double x1 = maxX + 0.05 * (maxX - minX);
        double y0 = minY - 0.05 * (maxY - minY);
        double y1 = maxY + 0.05 * (maxY - minY);
        StringBuilder sb = header(w, h, title);
        sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>%n", left, h - bottom, w - right, h - bottom));
        sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>%n", left, top, left, h - bottom));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\">p50 latency (ms): %s … %s</text>%n",
                (left + w - right) / 2, h - 15, fmt(minX), fmt(maxX)));
        sb.append(String.format(Locale.ROOT, "<text x=\"15\" y=\"%d\" font-size=\"12\" transform=\"rotate(-90 15 %d)\">top-1: %s … %s</text>%n",
                h / 2 + 60, h / 2 + 60, fmt(minY), fmt(maxY)));
        List<Point> front = points.stream().filter(Point::pareto).sorted((a, b) -> Double.compare(a.latencyMs(), b.latencyMs())).toList();
        if (front.size() > 1) {
            sb.append("<polyline fill=\"none\" stroke=\"#5cb85c\" stroke-width=\"2\" points=\"");
            for (Point p : front) {
                sb.append(String.format(Locale.ROOT, "%.1f,%.1f ", px(p.latencyMs(), x0, x1, left, w - right), py(p.top1(), y0, y1, top, h - bottom)));
            }
            sb.append("\"/>\n");
        }
        for (Point p : points) {
            double cx = px(p.latencyMs(), x0, x1, left, w - right);
            double cy = py(p.top1(), y0, y1, top, h - bottom);
            sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"><title>%s: top-1 %s, %s ms</title></circle>%n",
                    cx, cy, p.pareto() ? 5 : 3, p.pareto() ? "#5cb85c" : "#999", esc(p.label()), fmt(p.top1()), fmt(p.latencyMs())));
            if (p.best()) {
                sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"9\" fill=\"none\" stroke=\"#d9534f\" stroke-width=\"2\"/>%n", cx, cy));
            }
        }
        return sb.append("</svg>\n").toString();
    }

    private static double px(double v, double a, double b, int lo, int hi) {
        return lo + (v - a) / (b - a) * (hi - lo);
    }

    private static double py(double v, double a, double b, int lo, int hi) {
        return hi - (v - a) / (b - a) * (hi - lo);
    }

    private static StringBuilder header(int w, int h, String title) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\">%n", w, h, w, h));
        sb.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s</text>%n", esc(title)));
        return sb;
    }

    private static String fmt(double v) {
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.4g", v);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
