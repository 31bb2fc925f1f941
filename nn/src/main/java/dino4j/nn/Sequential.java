package dino4j.nn;

import dino4j.autograd.Var;

import java.util.ArrayList;
import java.util.List;

/** Children named "0", "1", ... applied in order through {@link Module#forward(Var)}. */
public class Sequential extends Module {
    private final List<Module> items = new ArrayList<>();

    public Sequential(Module... modules) { for (Module m : modules) add(m); }

    public Sequential add(Module m) {
        registerModule(Integer.toString(items.size()), m);
        items.add(m);
        return this;
    }

    public Module get(int i) { return items.get(i); }
    public int size() { return items.size(); }

    @Override public Var forward(Var x) {
        for (Module m : items) x = m.forward(x);
        return x;
    }
}
