package dino4j.nn.optim;

import dino4j.nn.Parameter;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parameters that share an lr multiplier and a weight-decay multiplier. Parameters are keyed by name
 * (optimizer state export uses these names): the List constructor takes {@link Parameter#name()}
 * (set by {@link dino4j.nn.Module#namedParameters()}), falling back to {@code groupName.i}.
 */
public final class ParamGroup {
    private final String name;
    private final LinkedHashMap<String, Parameter> params;
    private final double lrMultiplier, wdMultiplier;
    private final boolean lastLayer;

    public ParamGroup(String name, List<Parameter> params, double lrMultiplier, double wdMultiplier) {
        this(name, byName(name, params), lrMultiplier, wdMultiplier, false);
    }

    public ParamGroup(String name, Map<String, Parameter> named, double lrMultiplier, double wdMultiplier) {
        this(name, named, lrMultiplier, wdMultiplier, false);
    }

    /**
     * @param lastLayer true for DINO-head prototype layers ({@code last_layer}), which follow their own lr
     *                  schedule (§4.5: 0 during the first freeze_last_layer epochs): see {@link AdamW#step(double, double, double)}
     */
    public ParamGroup(String name, Map<String, Parameter> named, double lrMultiplier, double wdMultiplier, boolean lastLayer) {
        this.name = name;
        this.params = new LinkedHashMap<>(named);
        this.lrMultiplier = lrMultiplier;
        this.wdMultiplier = wdMultiplier;
        this.lastLayer = lastLayer;
    }

    private static LinkedHashMap<String, Parameter> byName(String group, List<Parameter> ps) {
        LinkedHashMap<String, Parameter> m = new LinkedHashMap<>();
        for (int i = 0; i < ps.size(); i++) {
            Parameter p = ps.get(i);
            String n = p.name() != null ? p.name() : group + "." + i;
            if (m.put(n, p) != null) throw new IllegalArgumentException("group '" + group + "' has two parameters named '" + n + "'");
        }
        return m;
    }

    public String name() { return name; }
    public Map<String, Parameter> namedParams() { return Collections.unmodifiableMap(params); }
    public List<Parameter> params() { return List.copyOf(params.values()); }
    public double lrMultiplier() { return lrMultiplier; }
    public double wdMultiplier() { return wdMultiplier; }
    public boolean isLastLayer() { return lastLayer; }

    @Override public String toString() {
        return "ParamGroup(" + name + ", " + params.size() + " params, lr×" + lrMultiplier + ", wd×" + wdMultiplier + (lastLayer ? ", last_layer" : "") + ")";
    }
}
