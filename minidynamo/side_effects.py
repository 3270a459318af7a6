"""Side effects recorded while tracing and replayed after the graph, in program order.

Mutations of objects that exist outside the frame (attributes of user objects and modules,
inputs' lists and dicts, globals, closure cells) are not performed during tracing; they are
recorded here, later reads see the recorded value, and the transformed code performs them
after the graph has run.
"""
from .variables.base import unsupported


class SideEffects:
    def __init__(self):
        self.attr_stores = {}  # (id(obj_vt), name) -> (obj_vt, name, value_vt)
        self.global_stores = {}  # (id(globals), name) -> (globals, name, value_vt)
        self.cell_stores = {}  # id(cell_vt) -> (cell_vt, value_vt)
        self.mutated = {}  # id(container_vt) -> container_vt (sourced lists/dicts mutated)
        self.order = []  # keys in first-mutation order
        self.statements = {}  # key -> fn(cg) -> lines: residual statements (add_statement)
        self.cells = {}  # id(real cell) -> CellVariable

    def _note(self, key):
        if key not in self.order:
            self.order.append(key)

    # attributes ---------------------------------------------------------------------
    def store_attr(self, tx, obj_vt, name, value):
        if obj_vt.source is None:
            unsupported(f"setting attribute {name!r} on an object created inside the compiled region")
        key = ("attr", id(obj_vt), name)
        self.attr_stores[key] = (obj_vt, name, value)
        self._note(key)

    def load_attr(self, obj_vt, name):
        e = self.attr_stores.get(("attr", id(obj_vt), name))
        return e[2] if e is not None else None

    # globals ------------------------------------------------------------------------
    def store_global(self, tx, f_globals, name, value):
        idx = tx.output.globals_index(f_globals)
        key = ("global", idx, name)
        self.global_stores[key] = (f_globals, name, value)
        self._note(key)

    def load_global(self, f_globals, name):
        for key, e in self.global_stores.items():
            if e[0] is f_globals and e[1] == name:
                return e[2]
        return None

    # cells ----------------------------------------------------------------------------
    def track_cell(self, real_cell, cell_vt):
        self.cells[id(real_cell)] = (real_cell, cell_vt)

    def cell_for(self, real_cell):
        e = self.cells.get(id(real_cell))
        return e[1] if e is not None and e[0] is real_cell else None

    def store_cell(self, cell_vt, value):
        if cell_vt.source is None and cell_vt.real is not None:
            unsupported("assigning a nonlocal of a function whose closure cannot be reached")
        key = ("cell", id(cell_vt))
        self.cell_stores[key] = (cell_vt, value)
        self._note(key)

    # containers -----------------------------------------------------------------------
    def mutate(self, tx, container_vt):
        if container_vt.source is not None:
            key = ("container", id(container_vt))
            self.mutated[key] = container_vt
            self._note(key)

    def add_statement(self, fn):
        """A residual statement (fn(cg) -> lines), replayed in program order."""
        key = ("stmt", len(self.order), id(fn))
        self.statements[key] = fn
        self.order.append(key)

    def replay(self, cg):
        """Statements performing the recorded effects, in program order."""
        from .graph_break import _Capture
        lines = []
        # a value is read before any effect runs, as the frame read it: an attribute that a
        # later effect changes (a property's setter, `o.n += 1`) is read into a temporary first
        early = _Capture(cg)
        for key in self.order:
            kind = key[0]
            if kind == "attr":
                obj, name, value = self.attr_stores[key]
                v = early(cg(value))
                lines.append(f"{cg(obj)}.{name} = {v}" if name.isidentifier()
                             else f"setattr({cg(obj)}, {name!r}, {v})")
            elif kind == "global":
                _, name, value = self.global_stores[key]
                target = "___G" if key[1] == 0 else f"___Gs[{key[1]}]"
                lines.append(f"{target}[{name!r}] = {early(cg(value))}")
            elif kind == "cell":
                cell, value = self.cell_stores[key]
                lines.append(f"{cell.source.expr().rsplit('.cell_contents', 1)[0]}.cell_contents = {early(cg(value))}")
            elif kind == "stmt":
                lines += self.statements[key](cg)
            elif kind == "container":
                c = self.mutated[key]
                from .variables.dicts import DictVariable
                target = c.source.expr()
                if isinstance(c, DictVariable):
                    lines.append(f"___tmp_d = {c.reconstruct_items(cg) if hasattr(c, 'reconstruct_items') else cg.dict_items(c)}")
                    lines.append(f"{target}.clear(); {target}.update(___tmp_d)")
                else:
                    lines.append(f"{target}[:] = [{', '.join(early(cg(i)) for i in c.items)}]")
        return lines
